"""The outbox relay says "no subscriber is bound" at INFO once per event type per process, then at
DEBUG (a relay publishes events nobody listens to yet all day). No broker, no database."""
import json
import logging
from types import SimpleNamespace

import pytest

from shared.bus import outbox
from shared.contracts.envelope import Envelope


class Publisher:
    """Publishes nothing: routes the types in ``routed``, the others come back unroutable."""

    def __init__(self, routed=()):
        self.routed = set(routed)

    def publish_batch(self, messages):
        return [message.routing_key in self.routed for message in messages]


def rows(*types, source="stars"):
    return [SimpleNamespace(id=n, event_id=f"e{n}", source=source, type=event_type,
                            body=json.dumps(Envelope(type=event_type, source=source,
                                                     data={"township_id": 2}).to_wire()))
            for n, event_type in enumerate(types)]


@pytest.fixture
def relay(monkeypatch):
    monkeypatch.setattr(outbox, "UNROUTABLE_REPORTED", outbox.FirstTimes())
    return outbox.Relay(database=None, outbox_table=None, publisher=Publisher({"score_changed"}))


def said(caplog, level):
    return [r.getMessage() for r in caplog.records
            if r.name == outbox.log.name and r.levelno == level and "no subscriber" in r.getMessage()]


def test_no_subscriber_is_said_at_info_once_per_event_type_then_at_debug(relay, caplog):
    caplog.set_level(logging.DEBUG, logger=outbox.log.name)
    outcomes = relay._publish(rows("month_closed", "score_changed", "month_closed"))
    assert [status for _, status, _ in outcomes] == [outbox.UNROUTABLE, outbox.PUBLISHED,
                                                     outbox.UNROUTABLE]
    for _ in range(3):
        relay._publish(rows("month_closed", "score_changed"))
    assert len(said(caplog, logging.INFO)) == 1 and "stars.month_closed" in said(caplog, logging.INFO)[0]
    assert len(said(caplog, logging.DEBUG)) == 3

    relay._publish(rows("month_closed", "year_closed"))          # a new type: INFO for it alone
    info = said(caplog, logging.INFO)
    assert len(info) == 2 and "stars.year_closed" in info[1] and "month_closed" not in info[1]


def test_once_per_process_not_per_relay(relay, caplog):
    caplog.set_level(logging.INFO, logger=outbox.log.name)
    relay._publish(rows("quarter_closed"))
    another = outbox.Relay(database=None, outbox_table=None, publisher=Publisher())
    another._publish(rows("quarter_closed"))
    another._publish(rows("quarter_closed", source="talent"))   # same type, another source
    assert [m.split(" (")[0] for m in said(caplog, logging.INFO)] == [
        "outbox relay: no subscriber is bound for stars.quarter_closed",
        "outbox relay: no subscriber is bound for talent.quarter_closed"]


class Database:
    """An outbox database that is down until ``up`` is set; nothing is ever pending."""
    is_sqlite = True

    def __init__(self):
        self.up = False
        self.passes = 0

    def reading(self):
        from contextlib import contextmanager
        from sqlalchemy import exc as db_errors

        @contextmanager
        def session():
            self.passes += 1
            if not self.up:
                raise db_errors.OperationalError("SELECT", {}, Exception("connection refused"))
            yield SimpleNamespace(execute=lambda query: SimpleNamespace(all=lambda: []))
        return session()

    transaction = reading


def test_a_relay_whose_database_is_down_says_so_once_then_that_it_recovered(caplog):
    import threading
    import time

    import eventlet
    caplog.set_level(logging.DEBUG, logger=outbox.log.name)
    database = Database()
    from sqlalchemy import MetaData

    from shared.bus.tables import add_bus_tables
    relay = outbox.Relay(database=database, outbox_table=add_bus_tables(MetaData())[0],
                         publisher=Publisher(), name="stars: outbox relay")
    stopping = threading.Event()
    thread = eventlet.spawn(relay.run, stopping, 0.001, 0.004)   # poll 1 ms, back off to 4 ms
    try:
        time.sleep(0.5)
        failed_passes = database.passes
        database.up = True
        time.sleep(0.1)
    finally:
        stopping.set()
        relay.wakeup.set()
        thread.wait()
    assert failed_passes > 50                                    # it kept trying, quickly
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert said[0][1].startswith("stars: outbox relay pass failed: OperationalError: ")
    assert said[1][1].startswith("stars: outbox relay pass recovered after ")
    assert all(r.exc_info is None for r in caplog.records)
