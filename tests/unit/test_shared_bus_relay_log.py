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
