"""What the bus logs about failures, without a broker: refusals and subscription failures in
nameko's records, a retry (one WARNING line, throttled), a dead letter (ERROR + traceback), and a
batch held through a database outage (a few lines, no retry used up)."""
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import exc as db_errors

from services.members.service import MembersService
from services.stars.service import StarsService
from shared import logs
from shared.bus import batch as batch_module
from shared.bus import refusals, retry
from shared.bus.batch import STOPPED, BatchSubscription
from shared.bus.failures import FailureRouting
from shared.bus.requests import WriteRpc
from shared.errors import Conflict, InvalidInput, NotFound
from shared.service import ServiceBase

NAMEKO = logging.getLogger(refusals.NAMEKO_LOGGER)


def nameko_record(exc, entrypoint, expected_form=False):
    """The record nameko's container makes when a worker raises ``exc``."""
    worker_ctx = SimpleNamespace(service_name="members", entrypoint=entrypoint)
    message = refusals.WORKER_ERRORS[1 if expected_form else 0]
    try:
        raise exc
    except Exception as raised:
        exc_info = (type(raised), raised, raised.__traceback__)
    return logging.LogRecord(NAMEKO.name, logging.WARNING if expected_form else logging.ERROR,
                             __file__, 1, message, (worker_ctx, exc), exc_info)


def rpc_entrypoint(name="get_member", expected=refusals.REFUSALS):
    return SimpleNamespace(method_name=name, expected_exceptions=expected)


@pytest.fixture
def nameko_at_info():
    level = NAMEKO.level
    NAMEKO.setLevel(logging.INFO)
    yield
    NAMEKO.setLevel(level)


@pytest.mark.parametrize("error", [NotFound("member 7 does not exist"),
                                   InvalidInput({"phone": ["is required"]}),
                                   Conflict("already closed")])
def test_a_refusal_is_one_info_line_without_traceback(error, nameko_at_info):
    record = nameko_record(error, rpc_entrypoint(), expected_form=True)
    assert refusals.WorkerErrors().filter(record)
    assert record.levelno == logging.INFO and record.exc_info is None and record.exc_text is None
    assert record.getMessage() == f"members.get_member refused: {type(error).__name__}: {error}"


def test_a_plain_nameko_rpc_refusing_is_quiet_too_and_a_bug_keeps_its_traceback(nameko_at_info):
    plain = rpc_entrypoint(expected=())                   # nameko's @rpc: nothing expected
    refused = nameko_record(NotFound("no such unit"), plain)
    assert refusals.WorkerErrors().filter(refused) and refused.levelno == logging.INFO
    bug = nameko_record(ZeroDivisionError("division by zero"), plain)
    assert refusals.WorkerErrors().filter(bug)
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert bug.getMessage().startswith("error handling worker")


def test_a_subscription_failure_is_left_to_the_subscription(nameko_at_info):
    subscription = SimpleNamespace(method_name="on_events", expected_exceptions=(),
                                   reports_own_failures=True)
    record = nameko_record(RuntimeError("boom"), subscription)
    assert not refusals.WorkerErrors().filter(record)     # DEBUG: not shown at INFO
    NAMEKO.setLevel(logging.DEBUG)
    record = nameko_record(RuntimeError("boom"), subscription)
    assert refusals.WorkerErrors().filter(record)
    assert record.levelno == logging.DEBUG and record.exc_info is None


def test_other_records_pass_untouched():
    record = logging.LogRecord(NAMEKO.name, logging.INFO, __file__, 1, "killing %s", ("x",), None)
    assert refusals.WorkerErrors().filter(record) and record.getMessage() == "killing x"


def test_the_shared_rpc_expects_the_refusals_and_keeps_what_else_is_given():
    assert refusals.Rpc().expected_exceptions == refusals.REFUSALS
    assert refusals.Rpc(expected_exceptions=KeyError).expected_exceptions == (
        *refusals.REFUSALS, KeyError)
    assert issubclass(WriteRpc, refusals.Rpc)


@pytest.mark.parametrize("cls", [MembersService, StarsService, ServiceBase])
def test_every_rpc_of_the_services_is_declared_with_the_shared_decorators(cls):
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.rpc import Rpc
    rpcs = {name: extension for name in dir(cls)
            for extension in getattr(getattr(cls, name), ENTRYPOINT_EXTENSIONS_ATTR, ())
            if isinstance(extension, Rpc)}
    assert "health" in rpcs
    assert {name for name, extension in rpcs.items()
            if not isinstance(extension, refusals.Rpc)} == set()


# -- a subscription's failures -------------------------------------------------------------------

class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, **kwargs):
        self.sent.append(kwargs)
        return True


class Routing(FailureRouting):
    consumer_name = "stars.on_events"

    def __init__(self, policy, clock=None):
        self.retry_policy = policy
        self.bus_publisher = SimpleNamespace(publisher=Publisher())
        if clock is not None:
            self._throttle = logs.Throttle(3, 30.0, clock=clock)


def message(event_id="e-1", attempt=1):
    return SimpleNamespace(properties={"message_id": event_id},
                           headers={retry.ATTEMPT_HEADER: attempt, "x-partition-key": "2"},
                           content_type="application/json", content_encoding="utf-8")


def failure(error):
    try:
        raise error
    except Exception as raised:
        return type(raised), raised, raised.__traceback__


def test_a_retry_is_one_warning_line_with_the_attempt_and_the_next_delay(caplog):
    caplog.set_level(logging.DEBUG, logger="shared.bus.failures")
    routing = Routing(retry.Policy((1000, 2000, 4000), 0.5))
    error = RuntimeError("database said: " + "x" * 5000)
    assert routing.route_failure({"id": "e-1"}, message(attempt=2), "q", failure(error))
    [said] = caplog.records
    assert said.levelno == logging.WARNING and said.exc_info is None
    text = said.getMessage()
    assert text.startswith("stars.on_events: event e-1 failed (attempt 2 of 4), retrying in ")
    assert "RuntimeError: database said: xxx" in text and text.endswith("(5,015 bytes)")
    assert len(text) < 320 and "\n" not in text
    assert (said.consumer, said.event_id, said.attempt) == ("stars.on_events", "e-1", 2)
    [sent] = routing.bus_publisher.publisher.sent
    assert sent["exchange"] == "jiceng.delay.2000ms"
    assert 1.0 <= sent["properties"]["expiration"] <= 2.0
    assert sent["headers"][retry.ATTEMPT_HEADER] == 3 and sent["headers"]["x-partition-key"] == "2"


def test_retry_lines_are_throttled_per_consumer_and_say_what_they_left_out(caplog):
    caplog.set_level(logging.WARNING, logger="shared.bus.failures")
    clock = SimpleNamespace(now=0.0)
    routing = Routing(retry.Policy((1000,), 0.0), clock=lambda: clock.now)
    for n in range(500):
        routing.route_failure({"id": f"e-{n}"}, message(f"e-{n}"), "q", failure(OSError("down")))
    assert len(caplog.records) == 3
    clock.now = 31.0
    routing.route_failure({"id": "e-x"}, message("e-x"), "q", failure(OSError("down")))
    assert len(caplog.records) == 4
    assert "(497 more retries in the last 30 s not logged)" in caplog.records[-1].getMessage()
    assert len(routing.bus_publisher.publisher.sent) == 501      # every one was retried


def test_a_dead_letter_is_one_error_line_with_the_traceback(caplog):
    caplog.set_level(logging.DEBUG, logger="shared.bus.failures")
    routing = Routing(retry.Policy((1000,), 0.5))
    assert routing.route_failure({"id": "e-9"}, message("e-9", attempt=2), "q",
                                 failure(ValueError("bad " + "v" * 3000)))
    [said] = caplog.records
    text = said.getMessage()
    assert said.levelno == logging.ERROR and said.event_id == "e-9"
    assert text.startswith("stars.on_events: event e-9 dead-lettered after attempt 2: ValueError: bad vvv")
    assert "\nTraceback (most recent call last):" in text
    assert max(len(line) for line in text.splitlines()) <= logs.TRACEBACK_LINE_LIMIT + 20
    [sent] = routing.bus_publisher.publisher.sent
    assert sent["routing_key"] == "q.dlq" and "Traceback" in sent["headers"]["x-jiceng-traceback"]


# -- a batch held through a database outage ------------------------------------------------------

class Database:
    def __init__(self, answers):
        self.answers = answers
        self.pings = 0

    def ping(self):
        self.pings += 1
        if not self.answers:
            raise db_errors.OperationalError("SELECT 1", {}, Exception("refused"))


class Consumer:
    def __init__(self):
        self.drained = 0
        self.acked = []

    def drain(self, timeout):
        self.drained += 1

    def heartbeat(self):
        pass

    def ack(self, deliveries):
        self.acked.append(list(deliveries))


REFUSED = db_errors.OperationalError("INSERT", {}, Exception("connection refused"))


def subscription(outcomes, database, monkeypatch):
    """A ``BatchSubscription`` outside nameko whose handler fails with ``outcomes`` in turn
    (None: success)."""
    monkeypatch.setattr(batch_module, "HOLD_BASE", 0.001)
    monkeypatch.setattr(batch_module, "HOLD_MAX", 0.004)
    sub = BatchSubscription(bindings_from=lambda config: [])
    sub.container = SimpleNamespace(service_name="stars", dependencies=[
        SimpleNamespace(database=database)])
    sub.method_name = "on_events"
    sub._stopping = batch_module.threading.Event()
    sub._outage = logs.Repeating(batch_module.log, "stars.on_events: database")
    sub.runs = []
    script = iter(outcomes)

    def work(consumer, deliveries):
        sub.runs.append(len(deliveries))
        outcome = next(script)
        return None if outcome is None else failure(outcome)

    sub._work = work
    return sub


def test_a_batch_is_held_while_the_database_is_down_then_handled_whole(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="shared.bus.batch")
    database = Database(answers=False)
    sub = subscription([REFUSED] * 40 + [None], database, monkeypatch)
    assert sub._attempt(Consumer(), ["d"] * 200) is None
    assert sub.runs == [200] * 41                          # the whole batch each time
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in said] == ["WARNING", "INFO"]
    assert said[0][1].startswith("stars.on_events: database failed: OperationalError:")
    assert "holding 200 event(s), next try in" in said[0][1]
    assert said[1][1].startswith("stars.on_events: database recovered after 40 failures")
    assert all(r.exc_info is None for r in caplog.records)


def test_an_outage_error_while_the_database_answers_is_held_a_few_times_only(monkeypatch):
    sub = subscription([REFUSED] * 10, Database(answers=True), monkeypatch)
    exc_info = sub._attempt(Consumer(), ["d"] * 5)
    assert exc_info[1] is REFUSED and len(sub.runs) == batch_module.HOLD_TRIES + 1
    sub.runs.clear()
    assert sub._attempt(Consumer(), ["d"])[1] is REFUSED and sub.runs == [1]   # alone: at once


def test_other_failures_are_not_held(monkeypatch):
    database = Database(answers=False)
    sub = subscription([ValueError("bug")], database, monkeypatch)
    assert isinstance(sub._attempt(Consumer(), ["d"])[1], ValueError)
    assert sub.runs == [1] and database.pings == 0


def test_stopping_while_holding_leaves_the_batch_unacknowledged(monkeypatch):
    sub = subscription([REFUSED] * 1000, Database(answers=False), monkeypatch)
    consumer = Consumer()
    original = consumer.drain

    def drain(timeout):
        original(timeout)
        if consumer.drained >= 3:
            sub._stopping.set()

    consumer.drain = drain
    assert sub._attempt(consumer, ["d"] * 3) is STOPPED
    assert consumer.acked == []


def test_a_batch_that_failed_for_an_outage_is_acknowledged_whole_once_handled(monkeypatch):
    sub = subscription([REFUSED, REFUSED, None], Database(answers=False), monkeypatch)
    deliveries = [SimpleNamespace(message=SimpleNamespace(headers={}), queue="q", body=None,
                                  event=None, attempt=1) for _ in range(3)]
    monkeypatch.setattr(batch_module, "decode", lambda message: {})
    monkeypatch.setattr(batch_module, "read_event", lambda body: SimpleNamespace(id="x"))
    consumer = Consumer()
    sub._handle(consumer, deliveries)
    assert sub.runs == [3, 3, 3] and consumer.acked == [deliveries]


def test_a_single_consumer_waits_out_a_database_outage_without_using_up_its_retries(caplog):
    from shared.bus.failures import OUTAGE_HEADER
    caplog.set_level(logging.INFO, logger="shared.bus.failures")
    routing = Routing(retry.Policy((1000, 2000), 0.5))
    database = Database(answers=False)
    routing.container = SimpleNamespace(dependencies=[SimpleNamespace(database=database)])
    headers = {retry.ATTEMPT_HEADER: 3, "x-partition-key": "2"}      # its retries are used up
    for outages in range(1, 6):
        letter = SimpleNamespace(properties={"message_id": "e-1"}, headers=headers,
                                 content_type="application/json", content_encoding="utf-8")
        assert routing.route_failure({"id": "e-1"}, letter, "q", failure(REFUSED))
        sent = routing.bus_publisher.publisher.sent[-1]
        headers = sent["headers"]
        assert headers[retry.ATTEMPT_HEADER] == 3 and headers[OUTAGE_HEADER] == outages
        assert sent["exchange"] == ("jiceng.delay.1000ms" if outages == 1 else "jiceng.delay.2000ms")
    assert [r.levelname for r in caplog.records] == ["WARNING"]        # said once, not per wait
    assert "stars.on_events: database failed: OperationalError" in caplog.records[0].getMessage()

    database.answers = True            # the database is back but the handler still fails
    letter = SimpleNamespace(properties={"message_id": "e-1"}, headers=headers,
                             content_type="application/json", content_encoding="utf-8")
    assert routing.route_failure({"id": "e-1"}, letter, "q", failure(REFUSED))
    dead = routing.bus_publisher.publisher.sent[-1]
    assert dead["routing_key"] == "q.dlq" and OUTAGE_HEADER not in dead["headers"]
