"""The bus against the real RabbitMQ, on PostgreSQL and on SQLite."""
import time

import pytest
from kombu import Connection
from nameko.exceptions import RemoteError
from sqlalchemy import select

from shared import db
from shared.bus import deadletters, retry, topology
from shared.bus.outbox import BusSession, Relay
from shared.bus.publisher import ConfirmingPublisher
from shared.bus.rpc import rpc_client
from shared.bus.store import declare_all
from shared.contracts.envelope import Envelope
from tests.support import broker, bus_app
from tests.support.spy import publish_raw
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration
TALLY_QUEUE = topology.consumer_queue_name("probe", "probe_sent", "tally", "on_probe")


@pytest.fixture
def bus(amqp_uri, db_url_factory):
    bus_app.register()
    urls = {"probe": db_url_factory(), "tally": db_url_factory()}
    bus_app.probe_metadata.create_all(db.database(urls["probe"]).engine)
    bus_app.tally_metadata.create_all(db.database(urls["tally"]).engine)
    config = make_config(amqp_uri, urls, topology_services=["probe", "tally"])
    yield config
    bus_app.unregister()


def tally(config):
    with db.database(config["services"]["tally"]["database_url"]).reading() as session:
        return bus_app.tally_counts(session)


def outbox_statuses(config):
    store = bus_app.ProbeService.store
    with db.database(config["services"]["probe"]["database_url"]).reading() as session:
        return [row.status for row in session.execute(select(store.outbox_table.c.status))]


def test_events_wait_in_declared_queues_until_their_consumer_first_runs(bus):
    declare_all(bus)
    with services_running(bus, bus_app.ProbeService):
        with rpc_client(bus) as cluster:
            cluster.probe.emit(25)
        wait_for(lambda: broker.queue_depth(bus["AMQP_URI"], TALLY_QUEUE) == 25, message="25 queued")
    assert set(outbox_statuses(bus)) == {"published"}
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: tally(bus)["rows"] == 25, message="25 tallied")
    assert tally(bus) == {"rows": 25, "distinct": 25}


def test_rolled_back_transaction_publishes_nothing(bus):
    with services_running(bus, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(bus) as cluster:
            with pytest.raises(RemoteError, match="RuntimeError"):
                cluster.probe.emit_then_fail()
            cluster.probe.emit(1, start=7)
        wait_for(lambda: tally(bus)["rows"] == 1)
    assert outbox_statuses(bus) == ["published"]


def test_event_without_subscriber_is_marked_unroutable_not_lost_silently(bus):
    with services_running(bus, bus_app.ProbeService):
        with rpc_client(bus) as cluster:
            cluster.probe.emit(3, event_type="probe_ignored")
        wait_for(lambda: outbox_statuses(bus) == ["unroutable"] * 3, message="3 unroutable")


def test_duplicate_delivery_counts_once(bus):
    declare_all(bus)
    envelope = Envelope(type="probe_sent", source="probe", data={"seq": 1, "fail_times": 0})
    for _ in range(3):
        assert publish_raw(bus, envelope.to_wire(), envelope.id)
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: broker.queue_depth(bus["AMQP_URI"], TALLY_QUEUE) == 0)
        time.sleep(0.3)
    assert tally(bus) == {"rows": 1, "distinct": 1}


def test_failing_handler_is_retried_with_backoff_then_succeeds(bus):
    with services_running(bus, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(bus) as cluster:
            started = time.monotonic()
            cluster.probe.emit(1, fail_times=2)
        wait_for(lambda: tally(bus)["rows"] == 1, message="handled after two failures")
        elapsed = time.monotonic() - started
    # the two delays, at most 200 ms then 400 ms (the caps), less their jitter, were honoured
    jitter = retry.policy(bus["bus"]).jitter
    assert elapsed >= 0.6 * (1 - jitter) - 0.05
    assert broker.queue_depth(bus["AMQP_URI"], topology.dead_letter_queue_name(TALLY_QUEUE)) == 0


def test_exhausted_retries_dead_letter_with_the_error_and_replay_restores(bus):
    dlq = topology.dead_letter_queue_name(TALLY_QUEUE)
    with services_running(bus, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(bus) as cluster:
            cluster.probe.emit(1, fail_times=3)
        wait_for(lambda: broker.queue_depth(bus["AMQP_URI"], dlq) == 1, message="dead letter")
        assert tally(bus)["rows"] == 0
        [letter] = deadletters.peek(bus["AMQP_URI"], TALLY_QUEUE)
        assert letter["attempt"] == 3
        assert "planned failure 3 of 3" in letter["error"]
        assert letter["body"]["data"]["seq"] == 0
        assert broker.queue_depth(bus["AMQP_URI"], dlq) == 1  # peeking kept it
        assert deadletters.replay(bus["AMQP_URI"], TALLY_QUEUE) == 1
        wait_for(lambda: tally(bus)["rows"] == 1, message="replayed and handled")
    assert broker.queue_depth(bus["AMQP_URI"], dlq) == 0


def test_payload_breaking_its_contract_is_dead_lettered_at_once(bus):
    declare_all(bus)
    bad = Envelope(type="probe_sent", source="probe", data={"seq": "not a number"})
    assert publish_raw(bus, bad.to_wire(), bad.id)
    dlq = topology.dead_letter_queue_name(TALLY_QUEUE)
    with services_running(bus, bus_app.TallyService):
        wait_for(lambda: broker.queue_depth(bus["AMQP_URI"], dlq) == 1, message="dead letter")
    [letter] = deadletters.peek(bus["AMQP_URI"], TALLY_QUEUE)
    assert letter["attempt"] == 1 and "seq" in letter["error"]
    assert tally(bus)["rows"] == 0


def test_rpc_to_a_slow_service_times_out_instead_of_hanging(bus):
    with services_running(bus, bus_app.ProbeService, bus_app.TallyService):
        with rpc_client(bus) as cluster:
            started = time.monotonic()
            with pytest.raises(RemoteError, match="RpcTimeout"):
                cluster.probe.ask_tally_slowly(5)
            assert time.monotonic() - started < 3


def test_relay_resumes_after_the_broker_refuses_a_publish(bus):
    """A relay that cannot publish leaves rows pending and publishes them on a later pass."""
    declare_all(bus)
    database = db.database(bus["services"]["probe"]["database_url"])
    table = bus_app.ProbeService.store.outbox_table
    info = dict(outbox_table=table, source="probe")
    with database.transaction(BusSession, info) as session:
        for seq in range(5):
            session.publish("probe_sent", {"seq": seq})
    broken = Relay(database, table, ConfirmingPublisher("amqp://guest:guest@127.0.0.1:1/"))
    with pytest.raises(Exception):
        broken.drain()
    assert outbox_statuses(bus) == ["pending"] * 5
    working = Relay(database, table, ConfirmingPublisher(bus["AMQP_URI"]))
    assert working.drain() == 5
    assert outbox_statuses(bus) == ["published"] * 5
    assert broker.queue_depth(bus["AMQP_URI"], TALLY_QUEUE) == 5


def test_batch_confirms_report_routed_returned_and_nacked_messages_each(amqp_uri):
    from kombu import Exchange, Queue
    from shared.bus.publisher import Outgoing
    exchange = Exchange("batch.events", type="topic", durable=True)
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        Queue("full-after-one", exchange=exchange, routing_key="limited", durable=True,
              queue_arguments={"x-max-length": 1, "x-overflow": "reject-publish"}).bind(channel).declare()
        Queue("roomy", exchange=exchange, routing_key="open", durable=True).bind(channel).declare()
        channel.close()
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        outcomes = publisher.publish_batch([
            Outgoing("batch.events", "open", {"n": 1}, "m1"),
            Outgoing("batch.events", "nobody-listens", {"n": 2}, "m2"),
            Outgoing("batch.events", "limited", {"n": 3}, "m3"),
            Outgoing("batch.events", "limited", {"n": 4}, "m4"),
            Outgoing("batch.events", "open", {"n": 5}, "m5"),
        ])
        assert outcomes == [True, False, True, None, True]
        assert publisher.publish_batch([Outgoing("batch.events", "open", {"n": 6}, "m6")]) == [True]
    finally:
        publisher.close()
    assert broker.queue_depth(amqp_uri, "roomy") == 3


def test_an_idle_relay_sleeps_between_polls(bus):
    """The relay's own bookkeeping commits must not wake it: idle means a pass per poll."""
    database = db.database(bus["services"]["probe"]["database_url"])
    table = bus_app.ProbeService.store.outbox_table
    relay = Relay(database, table, ConfirmingPublisher(bus["AMQP_URI"]))
    database.after_commit_hooks.append(relay.wakeup.set)
    passes = []
    original = relay.drain
    relay.drain = lambda: passes.append(1) or original()
    import threading
    stopping = threading.Event()
    import eventlet
    thread = eventlet.spawn(relay.run, stopping, 0.2)
    try:
        with database.transaction(BusSession, dict(outbox_table=table, source="probe")) as session:
            session.publish("probe_sent", {"seq": 1})
        time.sleep(1.0)
    finally:
        stopping.set()
        relay.wakeup.set()
        thread.wait()
        database.after_commit_hooks.remove(relay.wakeup.set)
    assert outbox_statuses(bus) in (["published"], ["unroutable"])
    assert 2 <= len(passes) <= 12, f"{len(passes)} relay passes in one idle second"
