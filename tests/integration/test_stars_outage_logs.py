"""The stars service through a PostgreSQL outage: its database refuses connections for ~15 s
while events keep arriving. The log must stay readable (a bounded number of lines, no traceback:
nothing is dead-lettered) and every event must be absorbed once the database is back.

Issue 7 measured 400,000 log lines for a 55 s outage; an operator should see a few lines saying
the database is down, how often it is still failing, and that it recovered."""
import logging
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.stars.models import ScoredEvent
from services.stars.service import StarsService
from shared import db, migrate
from shared.bus import deadletters, topology
from shared.bus.publisher import ConfirmingPublisher, Outgoing
from shared.contracts.envelope import PARTITION_HEADER, partition_key
from tests.support import broker
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 15
DAY = date.today() - timedelta(days=1)
STARS_QUEUES = [topology.partition_queue_name(topology.dynamic_queue_name("stars", "on_events"), i)
                for i in range(8)]
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"   # what `jiceng` prints


class Lines(logging.Handler):
    """Counts what an operator would read: every line of every formatted record (a traceback
    is many lines)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(LINE_FORMAT))
        self.records = []
        self.counting = False

    def emit(self, record):
        if self.counting:
            self.records.append((record, self.format(record)))

    @property
    def lines(self) -> int:
        return sum(len(text.splitlines()) for _, text in self.records)


@pytest.fixture
def lines():
    """Log at INFO as ``jiceng serve`` does (amqp's chatter at ERROR), counting what is said."""
    handler = Lines()
    root, amqp = logging.getLogger(), logging.getLogger("amqp")
    levels = root.level, amqp.level
    root.setLevel(logging.INFO)
    amqp.setLevel(logging.ERROR)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(levels[0])
    amqp.setLevel(levels[1])


def activity(n):
    body = {"id": str(uuid.uuid4()), "type": "activity_recorded", "source": "members",
            "version": 1, "occurred_at": datetime.now(timezone.utc).isoformat(),
            "correlation_id": None, "causation_id": None,
            "data": {"member_id": 1000 + n, "branch_id": 100 + n % 4, "township_id": 1 + n % 4,
                     "category": "rural", "activity_id": 50_000 + n, "kind": "blood_donation",
                     "occurred_on": DAY.isoformat()}}
    body["correlation_id"] = body["id"]
    return body


def publish(publisher, bodies):
    routed = publisher.publish_batch([
        Outgoing(exchange=topology.events_exchange_name("members"), routing_key=body["type"],
                 body=body, message_id=body["id"], headers={PARTITION_HEADER: partition_key(body)})
        for body in bodies])
    assert all(routed)


def scored(url) -> int:
    try:
        with db.database(url).reading() as session:
            return session.scalar(select(func.count()).select_from(ScoredEvent))
    except Exception:
        return -1


def test_a_database_outage_is_a_few_log_lines_and_loses_no_event(amqp_uri, pg_url_factory, lines):
    url = pg_url_factory()
    migrate.upgrade(StarsService, url)
    config = make_config(amqp_uri, {"stars": url})
    publisher = ConfirmingPublisher(amqp_uri)
    total = 0
    try:
        with services_running(config, StarsService):
            publish(publisher, [activity(n) for n in range(40)])
            total += 40
            wait_for(lambda: scored(url) == total, timeout=30, message="40 events scored")

            lines.counting = True
            broker.refuse_pg_connections(url)
            began = time.monotonic()
            try:
                while time.monotonic() - began < OUTAGE_SECONDS:    # events keep coming
                    publish(publisher, [activity(total + n) for n in range(20)])
                    total += 20
                    time.sleep(0.5)
            finally:
                broker.accept_pg_connections(url)
            wait_for(lambda: scored(url) == total, timeout=60,
                     message=f"all {total} events scored after the outage")
            wait_for(lambda: all(broker.queue_depth(amqp_uri, q) == 0 for q in STARS_QUEUES),
                     timeout=30, message="stars queues drained")
            time.sleep(1)
            lines.counting = False
    finally:
        publisher.close()
        broker.accept_pg_connections(url)

    said = [text for _, text in lines.records]
    report = "\n".join(said[:40])
    assert total > 500
    assert sum(deadletters.count(amqp_uri, q) for q in STARS_QUEUES) == 0, report
    assert lines.lines < 150, f"{lines.lines} lines in {len(said)} records:\n{report}"
    assert not [r for r, _ in lines.records if r.exc_info or r.levelno >= logging.ERROR], report
    # the operator is told the database failed, and that it came back
    assert any(r.levelno == logging.WARNING and "OperationalError" in r.getMessage()
               for r, _ in lines.records), report
    assert any("recovered" in r.getMessage() for r, _ in lines.records), report
