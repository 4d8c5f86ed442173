"""``make bench``: throughput and latency of the bus, each figure beside a baseline measured in the
same run on the same broker (so the ratios mean something on a noisy shared machine).

Baselines: raw kombu publishing with per-message confirms / without confirms, and raw kombu
consuming with acks. Measured: the confirming publisher in batches, the outbox relay on PostgreSQL
and SQLite, consume-and-handle through ``@subscribe`` and through ``@subscribe_batch`` (one queue,
and 4 partitions in one process) with the inbox, and RPC round trips.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from kombu import Connection, Exchange, Producer, Queue  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from shared import db  # noqa: E402
from shared.bus.outbox import BusSession, Relay  # noqa: E402
from shared.bus.publisher import ConfirmingPublisher, Outgoing  # noqa: E402
from shared.bus.rpc import rpc_client  # noqa: E402
from shared.bus.store import declare_all  # noqa: E402

sys.path.insert(0, os.getcwd())
from tests.support import batch_app, broker, bus_app  # noqa: E402
from tests.support.fixtures import make_config  # noqa: E402
from tests.support.running import services_running, wait_for  # noqa: E402

BODY = {"type": "probe_sent", "source": "probe", "data": {"seq": 1, "note": "x" * 120}}
SCALE = float(os.environ.get("BENCH_SCALE", "1"))


def n(count):
    return max(50, int(count * SCALE))


def rate(count, seconds):
    return count / seconds if seconds else float("inf")


def raw_publish(amqp, count, confirms):
    exchange = Exchange("bench.raw", type="topic", durable=True)
    options = {"confirm_publish": True} if confirms else {}
    with Connection(amqp, transport_options=options) as connection:
        channel = connection.channel()
        Queue("bench.raw.q", exchange=exchange, routing_key="#", durable=True).bind(channel).declare()
        producer = Producer(channel, exchange=exchange)
        started = time.perf_counter()
        for i in range(count):
            producer.publish(BODY, routing_key="k", delivery_mode=2, serializer="json")
        return rate(count, time.perf_counter() - started)


def raw_consume(amqp, count):
    received = []
    with Connection(amqp) as connection:
        queue = Queue("bench.raw.q", durable=True)

        def on_message(body, message):
            message.ack()
            received.append(1)

        with connection.Consumer(queue, callbacks=[on_message], prefetch_count=100):
            started = time.perf_counter()
            while len(received) < count:
                connection.drain_events(timeout=10)
            return rate(count, time.perf_counter() - started)


def batch_publish(amqp, count, batch_size):
    exchange = Exchange("bench.raw", type="topic", durable=True)
    with Connection(amqp) as connection:
        Queue("bench.raw.q", exchange=exchange, routing_key="#", durable=True).bind(
            connection.channel()).declare()
    publisher = ConfirmingPublisher(amqp)
    try:
        started = time.perf_counter()
        for start in range(0, count, batch_size):
            publisher.publish_batch([Outgoing("bench.raw", "k", BODY, str(uuid.uuid4()))
                                     for _ in range(min(batch_size, count - start))])
        return rate(count, time.perf_counter() - started)
    finally:
        publisher.close()


def relay_drain(amqp, url, count):
    bus_app.register()
    config = make_config(amqp, {"probe": url, "tally": url})
    bus_app.probe_metadata.create_all(db.database(url).engine)
    declare_all(config)
    database = db.database(url)
    table = bus_app.ProbeService.store.outbox_table
    with database.transaction(BusSession, dict(outbox_table=table, source="probe")) as session:
        for seq in range(count):
            session.publish("probe_sent", {"seq": seq})
    relay = Relay(database, table, ConfirmingPublisher(amqp), batch_size=200)
    started = time.perf_counter()
    relay.drain()
    return rate(count, time.perf_counter() - started)


def consume_and_handle(amqp, url, count):
    config = make_config(amqp, {"probe": url, "tally": url})
    bus_app.tally_metadata.create_all(db.database(url).engine)
    queue = "evt-probe-probe_sent--tally.on_probe"
    wait_for(lambda: broker.queue_depth(amqp, queue) >= count, timeout=60)
    started = time.perf_counter()
    with services_running(config, bus_app.TallyService):
        def handled():
            with db.database(url).reading() as session:
                return bus_app.tally_counts(session)["rows"] >= count
        wait_for(handled, timeout=300, interval=0.02)
        elapsed = time.perf_counter() - started
    return rate(count, elapsed)


def batch_consume_and_handle(amqp, count, partitions):
    """``counter`` (``tests.support.batch_app``): a bulk inbox claim and a bulk insert per batch."""
    urls = {"pulse": broker.create_pg_database("jiceng_bench"),
            "counter": broker.create_pg_database("jiceng_bench")}
    batch_app.register()
    try:
        config = make_config(amqp, urls)
        config["counter"] = {"partitions": partitions}
        batch_app.create_tables(config)
        declare_all(config)
        batch_app.publish_pulses(config, [{"seq": i, "township_id": i % 10 + 1}
                                          for i in range(count)])
        counter = db.database(urls["counter"])

        def handled():
            with counter.reading() as session:
                return session.execute(select(func.count()).select_from(
                    batch_app.counter_rows)).scalar_one() >= count

        started = time.perf_counter()
        with services_running(config, batch_app.CounterService):
            wait_for(handled, timeout=300, interval=0.02)
            elapsed = time.perf_counter() - started
        return rate(count, elapsed)
    finally:
        batch_app.unregister()
        for url in urls.values():
            broker.drop_pg_database(url)


def rpc_latency(amqp, url, calls):
    config = make_config(amqp, {"probe": url, "tally": url})
    with services_running(config, bus_app.TallyService):
        with rpc_client(config) as cluster:
            cluster.tally.health()
            samples = []
            for _ in range(calls):
                started = time.perf_counter()
                cluster.tally.health()
                samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def with_vhost(fn, *args):
    vhost = broker.create_vhost("jiceng-bench")
    try:
        return fn(broker.amqp_uri(vhost), *args)
    finally:
        broker.delete_vhost(vhost)


def main():
    print("Jiceng bus benchmark (2 cores shared; compare ratios, not absolutes)\n")
    base_confirm = with_vhost(raw_publish, n(2000), True)
    base_plain = with_vhost(raw_publish, n(10000), False)

    def consume_base(amqp):
        raw_publish(amqp, n(10000), False)
        return raw_consume(amqp, n(10000))

    base_consume = with_vhost(consume_base)
    rows = [("baseline: kombu publish, confirm each", base_confirm, base_confirm),
            ("baseline: kombu publish, no confirms", base_plain, base_confirm)]
    for size in (1, 50, 200):
        rows.append((f"ConfirmingPublisher, batches of {size}",
                     with_vhost(batch_publish, n(5000 if size > 1 else 2000), size), base_confirm))
    pg_url = broker.create_pg_database("jiceng_bench")
    sqlite_url = f"sqlite:////tmp/jiceng-bench-{uuid.uuid4().hex[:8]}.db"
    try:
        rows.append(("outbox relay, PostgreSQL", with_vhost(relay_drain, pg_url, n(5000)), base_confirm))
        rows.append(("outbox relay, SQLite", with_vhost(relay_drain, sqlite_url, n(5000)), base_confirm))
    finally:
        broker.drop_pg_database(pg_url)
        db.forget(sqlite_url)
        os.path.exists(sqlite_url[10:]) and os.remove(sqlite_url[10:])
    print(f"{'measure':<44}{'msg/s':>10}{'ratio':>10}   against")
    for name, value, base in rows:
        against = "confirm-each publish" if base is base_confirm else ""
        print(f"{name:<44}{value:>10.0f}{value / base:>9.2f}x   {against}")

    def consume_bench(amqp):
        pg = broker.create_pg_database("jiceng_bench")
        try:
            relay_drain(amqp, pg, n(3000))
            return consume_and_handle(amqp, pg, n(3000)), rpc_latency(amqp, pg, n(300))
        finally:
            broker.drop_pg_database(pg)

    handled, (p50, p99) = with_vhost(consume_bench)
    batched = with_vhost(batch_consume_and_handle, n(20000), 1)
    partitioned = with_vhost(batch_consume_and_handle, n(20000), 4)
    print(f"{'baseline: kombu consume with acks':<44}{base_consume:>10.0f}{1:>9.2f}x")
    for name, value in (("@subscribe + inbox + PostgreSQL write", handled),
                        ("@subscribe_batch + inbox + PostgreSQL write", batched),
                        ("  the same, 4 partitions in one process", partitioned)):
        print(f"{name:<44}{value:>10.0f}{value / base_consume:>9.2f}x"
              "   kombu consume (includes service start-up)")
    print(f"\nRPC round trip (health, PostgreSQL): p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
