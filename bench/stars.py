"""Stars absorbing the demo county's month, as published by the members service's outbox.

The members service loads the demo county (``scale`` of Huanghua) and relays every event; then
the stars service is started and timed until every activity is kept and its queues are empty.
Run alone: ``.venv/bin/python -m bench.stars [scale] [postgresql|sqlite]``.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from services.members.service import MembersService  # noqa: E402
from services.stars.models import ScoredEvent  # noqa: E402
from services.stars.service import StarsService  # noqa: E402
from shared import db, migrate  # noqa: E402
from shared.bus import topology  # noqa: E402

sys.path.insert(0, os.getcwd())
from tests.support import broker  # noqa: E402
from tests.support.fixtures import make_config  # noqa: E402
from tests.support.running import services_running, wait_for  # noqa: E402


def _count(url, table):
    with db.database(url).reading() as session:
        return session.scalar(select(func.count()).select_from(table))


def absorb_demo(amqp, database="postgresql", scale=1.0) -> dict:
    """Seconds and events/s for stars to absorb the demo month relayed by members."""
    made = []

    def url():
        if database == "postgresql":
            made.append(broker.create_pg_database())
            return made[-1]
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db"

    urls = {"members": url(), "stars": url()}
    try:
        migrate.upgrade(MembersService, urls["members"])
        migrate.upgrade(StarsService, urls["stars"])
        config = make_config(amqp, urls)
        summary = MembersService.load_demo(config, scale=scale)
        outbox = MembersService.store.outbox_table
        events = _count(urls["members"], outbox)
        members_db = db.database(urls["members"])

        def relayed():
            with members_db.reading() as session:
                return not session.scalar(select(func.count()).select_from(outbox)
                                          .where(outbox.c.status == "pending"))

        with services_running(config, MembersService):
            wait_for(relayed, timeout=600, interval=0.5, message="demo relayed")
        queues = [topology.partition_queue_name(topology.dynamic_queue_name("stars", "on_events"), i)
                  for i in range(8)]
        started = time.perf_counter()
        with services_running(config, StarsService):
            wait_for(lambda: _count(urls["stars"], ScoredEvent.__table__) >= summary["activities"],
                     timeout=1800, interval=0.5, message="activities kept")
            wait_for(lambda: all(broker.queue_depth(amqp, q) == 0 for q in queues),
                     timeout=600, interval=0.5, message="stars queues drained")
            seconds = time.perf_counter() - started
        return {"events": events, "activities": summary["activities"], "seconds": seconds,
                "events_per_s": events / seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        for made_url in made:
            broker.drop_pg_database(made_url)


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
    database = sys.argv[2] if len(sys.argv) > 2 else "postgresql"
    vhost = broker.create_vhost("jiceng-bench")
    try:
        found = absorb_demo(broker.amqp_uri(vhost), database, scale)
    finally:
        broker.delete_vhost(vhost)
    print(f"stars absorbed {found['events']} demo events ({found['activities']} activities, "
          f"scale {scale}, {database}) in {found['seconds']:.1f} s: "
          f"{found['events_per_s']:.0f} events/s; peak RSS of this process "
          f"{found['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
