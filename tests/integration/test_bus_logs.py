"""What a running service logs, over the real RabbitMQ: a refused RPC (shared ``rpc``, plain
nameko ``@rpc``, ``@rpc_write``) is one INFO line without traceback while a bug keeps nameko's
traceback; a duplicate event is one INFO line; a retried failure is one WARNING line per retry and
the traceback comes only with the dead letter."""
import logging
import time

import pytest
from nameko.exceptions import RemoteError
from nameko.rpc import rpc as nameko_rpc
from sqlalchemy import MetaData

from shared import db
from shared.bus import topology
from shared.bus.failures import RETRY_LINES
from shared.bus.refusals import rpc
from shared.bus.requests import rpc_write
from shared.bus.rpc import rpc_client
from shared.bus.store import Store, declare_all
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, InvalidInput, NotFound
from shared.service import ServiceBase
from tests.support import broker, bus_app
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import publish_raw

pytestmark = pytest.mark.integration
TALLY_QUEUE = topology.consumer_queue_name("probe", "probe_sent", "tally", "on_probe")
refusing_metadata = MetaData()


class RefusingService(ServiceBase):
    name = "refusing"
    store = Store(refusing_metadata)

    @rpc
    def find(self, n):
        raise NotFound(f"thing {n} does not exist")

    @nameko_rpc
    def plain(self):
        raise InvalidInput({"name": ["is required"]})

    @rpc_write
    def write(self):
        raise Conflict("the period is closed already")

    @rpc
    def broken(self):
        return 1 / 0


@pytest.fixture
def config(amqp_uri, sqlite_url_factory):
    bus_app.register()
    urls = {name: sqlite_url_factory() for name in ("probe", "tally", "refusing")}
    bus_app.probe_metadata.create_all(db.database(urls["probe"]).engine)
    bus_app.tally_metadata.create_all(db.database(urls["tally"]).engine)
    refusing_metadata.create_all(db.database(urls["refusing"]).engine)
    yield make_config(amqp_uri, urls)
    bus_app.unregister()


def tracebacks(records):
    return [r for r in records if r.exc_info or "Traceback" in r.getMessage()]


def test_refusals_are_one_info_line_and_a_bug_keeps_its_traceback(config, caplog):
    caplog.set_level(logging.INFO)
    with services_running(config, RefusingService), rpc_client(config) as cluster:
        caplog.clear()
        with pytest.raises(NotFound):
            cluster.refusing.find(7)
        with pytest.raises(InvalidInput):
            cluster.refusing.plain()
        with pytest.raises(Conflict):
            cluster.refusing.write()
        said = [r for r in caplog.records if r.name.startswith(("nameko", "shared"))]
        assert [(r.levelname, r.getMessage()) for r in said] == [
            ("INFO", "refusing.find refused: NotFound: thing 7 does not exist"),
            ("INFO", "refusing.plain refused: InvalidInput: name: is required"),
            ("INFO", "refusing.write refused: Conflict: the period is closed already")]
        assert tracebacks(said) == []
        with pytest.raises(RemoteError, match="ZeroDivisionError"):
            cluster.refusing.broken()
    [bug] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "refusing.broken" in bug.getMessage() and bug.exc_info is not None


def test_a_duplicate_event_is_one_info_line(config, caplog):
    caplog.set_level(logging.INFO)
    declare_all(config)
    envelope = Envelope(type="probe_sent", source="probe", data={"seq": 1, "fail_times": 0})
    for _ in range(3):
        assert publish_raw(config, envelope.to_wire(), envelope.id)
    with services_running(config, bus_app.TallyService):
        wait_for(lambda: broker.queue_depth(config["AMQP_URI"], TALLY_QUEUE) == 0)
        time.sleep(0.3)
    duplicates = [r for r in caplog.records if "already handled" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in duplicates] == [
        ("INFO", f"tally.on_probe: event {envelope.id} already handled; acknowledged")] * 2
    assert tracebacks(caplog.records) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_retries_are_one_warning_each_and_the_traceback_comes_with_the_dead_letter(config, caplog):
    caplog.set_level(logging.INFO)
    dlq = topology.dead_letter_queue_name(TALLY_QUEUE)
    with services_running(config, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(config) as cluster:
            cluster.probe.emit(1, fail_times=3)
        wait_for(lambda: broker.queue_depth(config["AMQP_URI"], dlq) == 1, message="dead letter")
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in said] == ["WARNING", "WARNING", "ERROR"]
    first, second, dead = (r.getMessage() for r in said)
    assert "tally.on_probe: event" in first and "failed (attempt 1 of 3), retrying in" in first
    assert "(attempt 2 of 3)" in second and "RuntimeError: planned failure 2 of 3" in second
    assert "dead-lettered after attempt 3: RuntimeError: planned failure 3 of 3" in dead
    assert tracebacks(said) == [said[2]] and said[2].exc_info is None   # cut, in the message
    assert all(len(text.splitlines()) == 1 for text in (first, second))
    assert said[0].attempt == 1 and said[0].event_id == said[2].event_id


def test_a_single_consumer_waits_out_a_database_outage_longer_than_its_retries(
        amqp_uri, sqlite_url_factory, pg_url_factory, caplog):
    """``tally`` (``@subscribe``) on PostgreSQL, retries 200 ms and 400 ms: a 6 s outage would
    dead-letter every event after 0.6 s if it used up their attempts."""
    caplog.set_level(logging.INFO)
    bus_app.register()
    try:
        urls = {"probe": sqlite_url_factory(), "tally": pg_url_factory()}
        bus_app.probe_metadata.create_all(db.database(urls["probe"]).engine)
        bus_app.tally_metadata.create_all(db.database(urls["tally"]).engine)
        config = make_config(amqp_uri, urls)
        dlq = topology.dead_letter_queue_name(TALLY_QUEUE)

        def tallied():
            try:
                with db.database(urls["tally"]).reading() as session:
                    return bus_app.tally_counts(session)["rows"]
            except Exception:
                return -1

        with services_running(config, bus_app.ProbeService, bus_app.TallyService):
            with rpc_client(config) as cluster:
                cluster.probe.emit(5)
                wait_for(lambda: tallied() == 5, message="5 tallied")
                caplog.clear()
                broker.refuse_pg_connections(urls["tally"])
                try:
                    for start in range(5, 50, 5):
                        cluster.probe.emit(5, start=start)
                        time.sleep(0.6)
                finally:
                    broker.accept_pg_connections(urls["tally"])
            wait_for(lambda: tallied() == 50, timeout=30, message="all 50 tallied")
            assert broker.queue_depth(config["AMQP_URI"], dlq) == 0
        said = [r for r in caplog.records if r.name.startswith(("shared", "nameko"))
                and r.levelno >= logging.INFO]
        texts = [f"{r.levelname} {r.getMessage()}" for r in said]
        assert tracebacks(said) == [] and not [r for r in said if r.levelno >= logging.ERROR]
        # 45 events and ~200 failed tries during the outage: the relay's and the consumer's
        # "failed" and "recovered", plus the retries of events that failed just before the
        # database came back and were counted as it answered (at most RETRY_LINES)
        assert len(said) <= 4 + RETRY_LINES, texts
        assert "WARNING tally.on_probe: database failed: OperationalError" in "\n".join(texts)
        assert any(t.startswith("INFO tally.on_probe: database recovered after") for t in texts)
    finally:
        bus_app.unregister()
