"""``make chaos`` / ``.venv/bin/python -m chaos``: every fault row against real processes; prints
the table, writes ``chaos/results.md`` and ``chaos/results.json``, and exits 1 when any row lost
or duplicated anything (or could not run).

Environment: ``CHAOS_SCALE`` (volumes, default 1: hundreds to a couple of thousand requests a
row), ``CHAOS_ROWS`` (comma-separated row ids, default all: see ``chaos.scenarios.ROWS``),
``CHAOS_KEEP=1`` (keep every row's folder: config, service logs; a failed row's is always kept),
``CHAOS_LOG_LEVEL`` (the services', default INFO), ``CHAOS_RESULTS`` (where to write, default
``chaos/results``; ``-`` for nowhere).
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import logging  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.getcwd())
from shared import db  # noqa: E402

db.green_postgres()

from chaos import report  # noqa: E402
from chaos.scenarios import ROWS, run_row  # noqa: E402


def selected_rows():
    wanted = [name.strip() for name in os.environ.get("CHAOS_ROWS", "").split(",") if name.strip()]
    if not wanted:
        return ROWS
    known = {row.id: row for row in ROWS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown row(s) {', '.join(unknown)}; rows: {', '.join(known)}")
    return [known[name] for name in wanted]


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("nameko", "kombu", "amqp", "shared"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    scale = float(os.environ.get("CHAOS_SCALE", "1"))
    keep = os.environ.get("CHAOS_KEEP", "") not in ("", "0")
    rows = selected_rows()
    started = time.monotonic()
    print(f"make chaos: {len(rows)} rows at CHAOS_SCALE={scale:g}, real processes, a vhost and "
          "two PostgreSQL databases per row", flush=True)
    results = []
    for row in rows:
        folder = tempfile.mkdtemp(prefix=f"jiceng-chaos-{row.id}-")
        print(f"  {row.id:<15} {row.fault} ...", end="", flush=True)
        result = run_row(row, scale, folder)
        results.append(result)
        print(f" {report.status(result)} ({result.seconds:.0f} s)", flush=True)
        for note in result.notes:
            print(f"      {note}", flush=True)
        if result.ok and not keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            result.folder = folder
    elapsed = time.monotonic() - started
    print()
    print(report.table(results))
    print()
    for result in results:
        if not result.ok:
            print(report.failure(result))
    print(f"{sum(r.ok for r in results)} of {len(results)} rows clean in {elapsed:.0f} s")
    target = os.environ.get("CHAOS_RESULTS", os.path.join(os.path.dirname(__file__), "results"))
    if target != "-":
        report.write(target, results, scale, elapsed)
        print(f"written: {target}.md, {target}.json")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
