"""``make bench``: throughput and latency of the bus, each figure beside a baseline measured in the
same run on the same broker (so the ratios mean something on a noisy shared machine).

Baselines: raw kombu publishing with per-message confirms / without confirms, and raw kombu
consuming with acks. Measured: the confirming publisher in batches, the outbox relay on PostgreSQL
and SQLite, consume-and-handle through ``@subscribe`` and through ``@subscribe_batch`` (one queue,
and 4 partitions in one process) with the inbox, and RPC round trips.

Then the figures of issue 6 (``bench.targets``: stars absorbing the demo, record-to-standing
latency, the demo month after ``jiceng run --demo``, rank reads, month close and year-end reset
at 1,000,000 members, peak RSS of each service), each beside a baseline of this run, with its
target and PASS / MISS (a MISS never fails the command; a measurement that raises does, after
the others ran). Everything is written to ``bench/results.json`` (date, ``uname -a``, CPUs, load
average, every baseline and figure). About 12 minutes on the 2-core machine.

``BENCH_QUICK=1`` runs everything smaller (a few minutes): ``BENCH_SCALE`` (bus message counts,
quick 0.2) and the settings listed in ``bench/targets.py`` (demo scales, members) say how.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

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
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
SCALE = float(os.environ.get("BENCH_SCALE", "0.2" if QUICK else "1"))
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json")


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


def bus() -> dict:
    """The bus figures (printed as they come); returns the baselines and every row."""
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
    consumed = (("@subscribe + inbox + PostgreSQL write", handled),
                ("@subscribe_batch + inbox + PostgreSQL write", batched),
                ("  the same, 4 partitions in one process", partitioned))
    for name, value in consumed:
        print(f"{name:<44}{value:>10.0f}{value / base_consume:>9.2f}x"
              "   kombu consume (includes service start-up)")
    print(f"\nRPC round trip (health, PostgreSQL): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return {
        "baselines": {"kombu_publish_confirm_each_per_s": base_confirm,
                      "kombu_publish_no_confirms_per_s": base_plain,
                      "kombu_consume_ack_per_s": base_consume,
                      "rpc_round_trip_ms": {"p50": p50, "p99": p99}},
        "publish_msg_per_s": {name: value for name, value, _ in rows},
        "consume_msg_per_s": {name.strip(): value for name, value in consumed}}


def main():
    from bench import targets
    started = time.perf_counter()
    options = {**targets.settings(QUICK), "bus_scale": SCALE}
    machine = targets.machine()
    print(f"{machine['uname']}\n{machine['cpus']} CPUs; load average at start "
          f"{' '.join(f'{x:.2f}' for x in machine['load_average_start'])}"
          f"{'; BENCH_QUICK' if QUICK else ''}\n")
    bus_figures = bus()
    print("\nIssue 6 figures (stars), each beside a baseline of the same run:")
    measured = targets.measure(bus_figures["baselines"], options)
    machine["load_average_end"] = os.getloadavg()
    rows, notes = targets.table(bus_figures["baselines"], measured, options)
    print()
    targets.show(rows, notes)
    elapsed = time.perf_counter() - started
    print(f"\n{len(rows)} rows in {elapsed / 60:.1f} min; load average at end "
          f"{' '.join(f'{x:.2f}' for x in machine['load_average_end'])}; written to {RESULTS}")
    baselines = dict(bus_figures["baselines"])
    figures = measured["figures"]
    if figures.get("ranks"):
        baselines["naive_ledger_query_ms"] = {
            name: figures["ranks"][name] for name in ("naive_rank_county", "naive_rank_township",
                                                      "naive_top50_county", "naive_top50_township")}
        baselines["scan_of_standings_ms"] = {
            name: figures["ranks"][name] for name in ("scan_rank_county", "scan_rank_township")}
    if figures.get("bare_process_rss_mb"):
        baselines["bare_process_rss_mb"] = figures["bare_process_rss_mb"]
    with open(RESULTS, "w") as handle:
        json.dump({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   "machine": machine, "settings": options, "elapsed_s": elapsed,
                   "baselines": baselines, "bus": bus_figures, "table": rows, "notes": notes,
                   "figures": figures, "errors": measured["errors"]},
                  handle, indent=2, default=str)
    return 1 if measured["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
