"""``@subscribe_batch`` against the real RabbitMQ: batches, duplicates, poison events, partitions,
and processes killed mid-stream. The consumer is ``counter`` from ``tests.support.batch_app``:
one row per handled event in a table without uniqueness, so only the inbox prevents a double
count."""
import os
import re
import signal
import subprocess
import sys
import time

import eventlet
import pytest
import yaml
from kombu import Connection, Producer
from nameko.runners import ServiceRunner

from shared import cli, db
from shared.bus import deadletters, inbox, topology
from shared.bus.store import declare_all
from shared.contracts.envelope import PARTITION_HEADER
from tests.support import batch_app, broker
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import publish_raw

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def batch_config(amqp_uri, urls, partitions, **bus):
    config = make_config(amqp_uri, urls, partition_claim_seconds=0.3, **bus)
    config["counter"] = {"partitions": partitions}
    return config


@pytest.fixture
def counter_bus(amqp_uri, db_url_factory):
    batch_app.register()
    urls = {"pulse": db_url_factory(), "counter": db_url_factory()}

    def make(partitions=1, **bus):
        config = batch_config(amqp_uri, urls, partitions, **bus)
        batch_app.create_tables(config)
        declare_all(config)
        return config

    yield make
    batch_app.unregister()


def queues(config):
    return batch_app.counter_spec(config).queue_names


def depth(config, queue):
    return broker.queue_depth(config["AMQP_URI"], queue)


def drained(config):
    return all(depth(config, queue) == 0 for queue in queues(config))


@pytest.mark.parametrize("partitions", [1, 4])
def test_waiting_events_are_handled_in_batches_each_exactly_once(counter_bus, partitions):
    config = counter_bus(partitions)
    batch_app.publish_pulses(config, [{"seq": i, "township_id": i % 10 + 1} for i in range(500)])
    assert sum(depth(config, queue) for queue in queues(config)) == 500
    with services_running(config, batch_app.CounterService):
        wait_for(lambda: batch_app.counts(config)["distinct"] == 500, message="500 handled")
        wait_for(lambda: drained(config), message="queues drained")
    assert batch_app.counts(config) == {"rows": 500, "distinct": 500}
    sizes = batch_app.batch_sizes(config)
    assert max(sizes) > 1 and sum(sizes) == 500


def test_duplicates_within_a_batch_and_across_batches_are_stored_once(counter_bus):
    config = counter_bus(partitions=1)
    envelopes = batch_app.publish_pulses(config, [{"seq": i} for i in range(50)])
    for envelope in envelopes[:20]:              # waiting beside the originals: same batch
        assert publish_raw(config, envelope.to_wire(), envelope.id)
    with services_running(config, batch_app.CounterService):
        wait_for(lambda: batch_app.counts(config)["distinct"] == 50, message="50 handled")
        for envelope in envelopes[:10]:          # after they were handled: a later batch
            assert publish_raw(config, envelope.to_wire(), envelope.id)
        wait_for(lambda: sum(batch_app.batch_sizes(config)) == 80, message="80 deliveries")
        wait_for(lambda: drained(config), message="queue drained")
    assert batch_app.counts(config) == {"rows": 50, "distinct": 50}
    assert max(batch_app.batch_sizes(config)) > 50   # one batch held originals and duplicates


def test_a_batch_is_acknowledged_only_when_done_even_past_the_keep_alive_tick(counter_bus):
    config = counter_bus(partitions=1)
    [queue] = queues(config)
    batch_app.publish_pulses(config, [{"seq": i, "work_ms": 1800} for i in range(3)])
    runner = ServiceRunner(config)
    runner.add_service(batch_app.CounterService)
    runner.start()
    try:
        wait_for(lambda: depth(config, queue) == 0, message="the batch in hand")
        time.sleep(1.3)                          # past the 1 s tick, before the batch is done
    finally:
        runner.kill()
    assert batch_app.counts(config)["rows"] == 0
    wait_for(lambda: depth(config, queue) == 3, message="unacknowledged, so requeued")
    with services_running(config, batch_app.CounterService):
        wait_for(lambda: batch_app.counts(config)["rows"] == 3, timeout=10, message="done")
        time.sleep(0.3)
    assert depth(config, queue) == 0, "acknowledged, so not requeued by the stop"
    assert batch_app.batch_sizes(config) == [3]


def test_a_poison_event_is_retried_and_dead_lettered_alone_in_its_partition(counter_bus):
    config = counter_bus(partitions=4)
    pulses = [{"seq": i, "township_id": i % 10 + 1} for i in range(200)]
    pulses.insert(77, {"seq": 999, "township_id": 3, "poison": True})
    started = time.monotonic()
    batch_app.publish_pulses(config, pulses)
    dlqs = [topology.dead_letter_queue_name(queue) for queue in queues(config)]
    with services_running(config, batch_app.CounterService):
        wait_for(lambda: sum(depth(config, dlq) or 0 for dlq in dlqs) == 1, message="dead letter")
        elapsed = time.monotonic() - started
        wait_for(lambda: batch_app.counts(config)["rows"] == 200, message="the good ones")
    assert batch_app.counts(config) == {"rows": 200, "distinct": 200}
    assert elapsed >= 0.6 - 0.05                 # both retry delays, 200 ms then 400 ms
    [queue] = [queue for queue, dlq in zip(queues(config), dlqs) if depth(config, dlq) == 1]
    [letter] = deadletters.peek(config["AMQP_URI"], queue)
    assert letter["body"]["data"]["seq"] == 999
    assert letter["attempt"] == 3 and "a poison pulse is in the batch" in letter["error"]
    same_township = {row.partition for row in batch_app.rows(config) if row.township_id == 3}
    assert same_township == {int(queue.rsplit(".p", 1)[1])}   # retried within its partition
    assert cli.dlq_queues(config, batch_app.counter_spec(config).queue_name) == queues(config)


def test_unreadable_bodies_are_dead_lettered_with_a_reason(counter_bus):
    config = counter_bus(partitions=1)
    [queue] = queues(config)
    batch_app.publish_pulses(config, [{"seq": i} for i in range(5)])
    with Connection(config["AMQP_URI"]) as connection:
        producer = Producer(connection.channel())
        for message_id, body in (("not-utf8", b"\xff\xfe"), ("no-envelope", b'{"hello": "world"}')):
            producer.publish(body, exchange="pulse.events", routing_key="pulse_sent",
                             content_type="application/json", content_encoding="binary",
                             message_id=message_id, headers={PARTITION_HEADER: message_id})
    with services_running(config, batch_app.CounterService):
        dlq = topology.dead_letter_queue_name(queue)
        wait_for(lambda: depth(config, dlq) == 2, message="two dead letters")
        wait_for(lambda: batch_app.counts(config)["rows"] == 5, message="the good ones")
    letters = {letter["message_id"]: letter for letter in deadletters.peek(config["AMQP_URI"], queue)}
    assert "not UTF-8 JSON" in letters["not-utf8"]["error"]
    assert "missing from the envelope" in letters["no-envelope"]["error"]
    assert letters["no-envelope"]["body"] == {"hello": "world"}
    assert letters["not-utf8"]["attempt"] == 1


def test_a_dropped_broker_connection_is_reopened_and_nothing_is_lost_or_doubled(counter_bus,
                                                                                  vhost):
    config = counter_bus(partitions=4, batch_size=50, batch_wait_ms=20)
    total = 1000
    with services_running(config, batch_app.CounterService):
        mine = wait_for(lambda: broker.connections(vhost, "jiceng counter.on_pulses"),
                        message="the batch consumer's connection listed")
        batch_app.publish_pulses(config, [{"seq": i, "township_id": i % 10 + 1, "work_ms": 60}
                                          for i in range(total)])
        wait_for(lambda: batch_app.counts(config)["rows"] >= 200, message="progress")
        for connection in mine:
            broker.close_connection(connection["name"])
        assert batch_app.counts(config)["rows"] < total, "the drop must land mid-stream"
        wait_for(lambda: batch_app.counts(config)["distinct"] == total, timeout=60,
                 message="all handled after reconnecting")
        wait_for(lambda: drained(config), message="queues drained")
    assert batch_app.counts(config) == {"rows": total, "distinct": total}


def test_a_second_claimer_of_the_same_events_waits_then_skips_them(pg_url_factory):
    database = db.database(pg_url_factory())
    table = batch_app.CounterService.store.inbox_table
    batch_app.counter_metadata.create_all(database.engine)
    claimed = {}

    def claim(name, ids, hold):
        with database.transaction() as session:
            claimed[name] = inbox.claim_many(session, table, "counter.on_pulses", ids)
            eventlet.sleep(hold)

    first = eventlet.spawn(claim, "first", ["a", "b"], 0.5)
    eventlet.sleep(0.1)
    started = time.monotonic()
    claim("second", ["b", "c", "c"], 0)
    first.wait()
    assert time.monotonic() - started >= 0.3     # it waited for the first transaction
    assert claimed == {"first": {"a", "b"}, "second": {"c"}}


# -- several processes ----------------------------------------------------------------------------

HOLDING = re.compile(r"holding partitions \[([0-9, ]*)\] of (\d+)")


class Counters:
    """``counter`` processes against one PostgreSQL database and vhost, each logging to a file."""

    def __init__(self, config, tmp_path):
        self.config = config
        self.path = tmp_path / "config.yaml"
        self.path.write_text(yaml.safe_dump(config))
        self.tmp_path = tmp_path
        self.processes = []

    def start(self):
        log = open(self.tmp_path / f"counter-{len(self.processes)}.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "tests.support.batch_app", "serve",
                                    "counter", "--config", str(self.path)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, LOG_LEVEL="INFO"))
        process.log_path = log.name
        self.processes.append(process)
        return process

    @staticmethod
    def holdings(process) -> list[list[int]]:
        """Every set of partitions the process said it held, in order."""
        text = open(process.log_path).read()
        return [[int(p) for p in found.split(",") if p.strip()] for found, _ in HOLDING.findall(text)]

    def held(self, process) -> list[int]:
        found = self.holdings(process)
        return found[-1] if found else []

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def counters(amqp_uri, pg_url_factory, tmp_path):
    batch_app.register()
    urls = {"pulse": pg_url_factory(), "counter": pg_url_factory()}
    config = batch_config(amqp_uri, urls, 4, batch_size=50, batch_wait_ms=20)
    batch_app.create_tables(config)
    declare_all(config)
    group = Counters(config, tmp_path)
    yield group
    group.stop_all()
    batch_app.unregister()


def balanced(group, alive):
    held = [group.held(process) for process in alive]
    every = sorted(p for partitions in held for p in partitions)
    return all(held) and every == list(range(4))


def test_each_township_is_handled_by_one_process_and_partition(counters):
    config = counters.config
    alive = [counters.start(), counters.start()]
    wait_for(lambda: balanced(counters, alive), timeout=40, message="two processes share 4")
    time.sleep(1.0)
    assert balanced(counters, alive)
    batch_app.publish_pulses(config, [{"seq": i, "township_id": i % 10 + 1} for i in range(1000)])
    wait_for(lambda: batch_app.counts(config)["distinct"] == 1000, timeout=60, message="handled")
    rows = batch_app.rows(config)
    assert len(rows) == 1000
    for township in range(1, 11):
        mine = [row for row in rows if row.township_id == township]
        assert len({row.partition for row in mine}) == 1, township
        assert len({row.pid for row in mine}) == 1, township
    owner = {process.pid: counters.held(process) for process in alive}
    for row in rows:
        assert row.partition in owner[row.pid]
    # 2 + 2 leaves a third process none under "at most ceil(4 / 3) = 2 each": it signals that it
    # waits, and one of the others gives a partition back to it
    alive.append(counters.start())
    wait_for(lambda: balanced(counters, alive), timeout=40, message="the third gets a partition")


def test_three_processes_share_partitions_and_survive_a_kill_mid_stream(counters):
    config = counters.config
    total = 3000
    alive = [counters.start() for _ in range(3)]
    wait_for(lambda: balanced(counters, alive), timeout=60, message="three processes share 4")
    batch_app.publish_pulses(config, [{"seq": i, "township_id": i % 10 + 1, "work_ms": 150}
                                      for i in range(total)])
    wait_for(lambda: batch_app.counts(config)["rows"] >= 600, timeout=60, message="progress")
    victim = next(process for process in alive if counters.held(process))
    orphaned = counters.held(victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    after_kill = batch_app.counts(config)["rows"]
    assert after_kill < total, "the kill must land mid-stream"
    survivors = [process for process in alive if process is not victim]
    wait_for(lambda: balanced(counters, survivors), timeout=30, message="partitions taken over")
    wait_for(lambda: batch_app.counts(config)["distinct"] == total, timeout=120,
             message="all handled")
    wait_for(lambda: drained(config), timeout=30, message="queues drained")
    time.sleep(0.5)
    assert batch_app.counts(config) == {"rows": total, "distinct": total}
    rows = batch_app.rows(config)
    assert {row.pid for row in rows} <= {process.pid for process in alive}
    assert {row.pid for row in rows if row.partition in orphaned} - {victim.pid}, \
        "the victim's partitions were finished by the survivors"
    for process in survivors:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert process.returncode == 0
