"""The table of a chaos run, on the terminal and in ``chaos/results.md`` / ``.json``."""
import json
import os
import platform
from datetime import datetime, timezone

COLUMNS = ("fault", "requests sent", "committed", "reflected in stars", "lost", "duplicated",
           "catch-up", "scores = sum", "result")


def status(result) -> str:
    if result.ok:
        return "PASS"
    if result.lost or result.duplicated or result.members_off:
        return "FAIL"
    return "ERROR"


def _catch_up(result) -> str:
    return "-" if result.catch_up is None else f"{result.catch_up:.1f} s"


def _scores(result) -> str:
    """Members whose score equals the sum of their live activities' points, of all members."""
    if not result.members_checked:
        return "-"
    return f"{result.members_checked - result.members_off}/{result.members_checked}"


def cells(result) -> list[str]:
    return [result.fault, str(result.sent), str(result.committed), str(result.reflected),
            str(result.lost), str(result.duplicated), _catch_up(result), _scores(result),
            status(result)]


def table(results) -> str:
    rows = [list(COLUMNS)] + [cells(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in results]
    return "\n".join(lines)


def failure(result) -> str:
    lines = [f"{result.row}: {status(result)}"
             + (f": {result.error}" if result.error else "")
             + (f"; {result.members_off} members' scores differ" if result.members_off else "")]
    lines += [f"    {line}" for line in result.details[:15]]
    if result.folder:
        lines.append(f"    logs and config: {result.folder}")
    return "\n".join(lines)


def write(target, results, scale, elapsed):
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    notes = "\n".join(f"- **{r.row}**: " + ("; ".join(r.notes) or "-")
                      + (f" ({r.error})" if r.error and r.error not in r.notes else "")
                      for r in results)
    with open(f"{target}.md", "w", encoding="utf-8") as handle:
        handle.write(f"# make chaos, {stamp}\n\nCHAOS_SCALE={scale:g}, {len(results)} rows in "
                     f"{elapsed:.0f} s on {machine}.\n\n{markdown(results)}\n\n{notes}\n")
    with open(f"{target}.json", "w", encoding="utf-8") as handle:
        json.dump({"date": stamp, "machine": machine, "scale": scale,
                   "seconds": round(elapsed, 1), "rows": [r.as_dict() for r in results]},
                  handle, ensure_ascii=False, indent=2)
