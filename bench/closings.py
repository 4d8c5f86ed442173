"""Month close and year-end reset at province scale: ``services.stars.closings.close`` timed on the
synthetic county of ``bench.ranks`` (generated with ``closable=True``: 1,000,000 members, 4,000
branches, 10 townships; three ledger rows per member in 2026-11, ``item_months`` derived from
them).

The other months of 2026 and its first three quarters hold nothing here, so they are marked
closed directly (a ``period_closings`` row each, no results); the three closes that read the data
are timed, each in its own transaction with its commit, as the ``close_*`` RPCs run them:

* ``2026-11``: the month close (the scoring handbook of every member, branch and committee);
* ``2026-Q4`` then ``2026``: the year-end reset (the official quarter stars, then the archived
  year with its Model Stars; the next year starts from zero because every score is per period).

All pass ``early=True`` (the bench may run before the period ends). Each close runs in a child
process (``python -m bench.closings close URL PERIOD``) stopped after ``timeout`` seconds, so a
slow close bounds ``make bench`` instead of holding it; a close that is stopped is reported as
at least that long, and the closes after it (which need it) are not run.

Run alone: ``BENCH_MEMBERS=100000 .venv/bin/python -m bench.closings``.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

sys.path.insert(0, os.getcwd())
from services.stars.models import ClosedResult, ItemMonth, PeriodClosing, Subject  # noqa: E402
from shared import db  # noqa: E402
from shared.config import ROOT  # noqa: E402
from bench.demo_run import finished  # noqa: E402

YEAR = "2026"
MONTH, QUARTER = "2026-11", "2026-Q4"
CLOSES = (("month_close_s", MONTH), ("quarter_close_s", QUARTER), ("year_close_s", YEAR))


def mark_empty_periods_closed(session):
    """Every period of the year but the three timed ones, closed with nothing in them."""
    stamp = datetime.now(timezone.utc)
    empty = [(f"{YEAR}-{m:02d}", "month") for m in range(1, 13) if f"{YEAR}-{m:02d}" != MONTH] \
        + [(f"{YEAR}-Q{q}", "quarter") for q in range(1, 4)]
    for period, kind in empty:
        session.execute(PeriodClosing.__table__.insert().values(
            period=period, period_kind=kind, closed_at=stamp, closed_by="bench",
            rulebook_version="2026.1", summary={"counts": [], "model_stars": {}, "bench": "empty"}))


def close_once(url, period) -> float:
    """One close, timed with its commit (in this process)."""
    from services.stars import books as books_module
    from services.stars import closings
    books = books_module.load(None)
    with Session(db.database(url).engine) as session:
        started = time.perf_counter()
        closings.close(session, books, period, "bench", datetime.now(timezone.utc), early=True)
        session.commit()
        return time.perf_counter() - started


def _peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(pg_url, timeout=None) -> dict:
    """Seconds of each close on a database ``bench.ranks`` generated with ``closable=True``; a
    close stopped at ``timeout`` is given as ``{"stopped_after": timeout}``."""
    engine = db.database(pg_url).engine
    result = {}
    with Session(engine) as session:
        result["members"] = session.scalar(select(func.count()).select_from(Subject).where(
            Subject.kind == "member"))
        result["item_month_rows"] = session.scalar(select(func.count()).select_from(ItemMonth))
        mark_empty_periods_closed(session)
        session.commit()
    for name, period in CLOSES:
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "bench.closings", "close", pg_url, period],
                cwd=str(ROOT), stdout=out, stderr=err, text=True)
            if not finished(child, timeout if timeout is not None else float("inf")):
                child.kill()
                child.wait()
                result[name] = {"stopped_after": timeout}
                break
            out.seek(0), err.seek(0)
            output, errors = out.read(), err.read()
        if child.returncode != 0:
            raise RuntimeError(f"closing {period} failed:\n{errors[-3000:]}")
        found = json.loads(output.strip().splitlines()[-1])
        result[name] = found["seconds"]
        result[name[:-2] + "_peak_rss_mb"] = found["peak_rss_mb"]
    with Session(engine) as session:
        result["closed_results_rows"] = session.scalar(
            select(func.count()).select_from(ClosedResult))
    if all(isinstance(result.get(name), float) for name in ("quarter_close_s", "year_close_s")):
        result["year_end_s"] = result["quarter_close_s"] + result["year_close_s"]
    return result


def main():
    if sys.argv[1:2] == ["close"]:
        seconds = close_once(sys.argv[2], sys.argv[3])
        print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))
        return
    from bench import ranks
    from tests.support import broker
    url = broker.create_pg_database("jiceng_bench")
    members = int(os.environ.get("BENCH_MEMBERS", "1000000"))
    try:
        generated = ranks.generate(db.database(url).engine, members, closable=True)
        print(f"{members:,} members generated in {generated:.0f} s")
        print(json.dumps(run(url), indent=2))
    finally:
        broker.drop_pg_database(url)


if __name__ == "__main__":
    main()
