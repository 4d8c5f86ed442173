"""Processes killed for real (kill -9 and SIGTERM) mid-stream lose nothing and count nothing twice.

The consumer is ``tally`` from ``tests.support.bus_app``: one row per handled event in a table
without any uniqueness, so only the inbox prevents a redelivered event from being counted again.
"""
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from sqlalchemy import func, select

from shared import db
from shared.bus import topology
from shared.bus.outbox import BusSession
from shared.bus.store import declare_all
from tests.support import broker, bus_app
from tests.support.fixtures import make_config
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TALLY_QUEUE = topology.consumer_queue_name("probe", "probe_sent", "tally", "on_probe")


@pytest.fixture
def crash_bus(amqp_uri, pg_url_factory, tmp_path):
    bus_app.register()
    urls = {"probe": pg_url_factory(), "tally": pg_url_factory()}
    bus_app.probe_metadata.create_all(db.database(urls["probe"]).engine)
    bus_app.tally_metadata.create_all(db.database(urls["tally"]).engine)
    config = make_config(amqp_uri, urls)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    declare_all(config)
    processes = []

    def start(service):
        process = subprocess.Popen([sys.executable, "-m", "tests.support.bus_app", "serve", service,
                                    "--config", str(path)], cwd=ROOT,
                                   env=dict(os.environ, LOG_LEVEL="WARNING"))
        processes.append(process)
        return process

    yield config, start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    bus_app.unregister()


def add_probes(config, count, work_ms=0):
    database = db.database(config["services"]["probe"]["database_url"])
    info = dict(outbox_table=bus_app.ProbeService.store.outbox_table, source="probe")
    with database.transaction(BusSession, info) as session:
        for seq in range(count):
            session.publish("probe_sent", {"seq": seq, "work_ms": work_ms})


def tally(config):
    with db.database(config["services"]["tally"]["database_url"]).reading() as session:
        return bus_app.tally_counts(session)


def pending_outbox(config):
    table = bus_app.ProbeService.store.outbox_table
    with db.database(config["services"]["probe"]["database_url"]).reading() as session:
        return session.execute(select(func.count()).select_from(table)
                               .where(table.c.status == "pending")).scalar_one()


def stop(process, sig):
    process.send_signal(sig)
    process.wait(timeout=60)


def test_consumers_killed_and_terminated_mid_stream_lose_and_double_count_nothing(crash_bus):
    config, start = crash_bus
    total = 1500
    add_probes(config, total, work_ms=5)
    relay = start("probe")
    wait_for(lambda: pending_outbox(config) == 0, timeout=60, message="outbox relayed")
    stop(relay, signal.SIGTERM)

    first = start("tally")
    wait_for(lambda: tally(config)["rows"] >= 300, timeout=60, message="first consumer progressed")
    stop(first, signal.SIGKILL)
    after_kill = tally(config)["rows"]

    second = start("tally")
    wait_for(lambda: tally(config)["rows"] >= after_kill + 300, timeout=60,
             message="second consumer progressed")
    stop(second, signal.SIGTERM)
    assert second.returncode == 0
    after_term = tally(config)["rows"]
    assert after_kill < after_term < total, "both stops must land mid-stream"

    third, fourth = start("tally"), start("tally")
    wait_for(lambda: tally(config)["distinct"] == total, timeout=120, message="all handled")
    wait_for(lambda: broker.queue_depth(config["AMQP_URI"], TALLY_QUEUE) == 0, timeout=30)
    time.sleep(0.5)
    stop(third, signal.SIGTERM)
    stop(fourth, signal.SIGTERM)
    assert tally(config) == {"rows": total, "distinct": total}
    assert broker.queue_depth(config["AMQP_URI"], topology.dead_letter_queue_name(TALLY_QUEUE)) == 0


def test_relay_killed_mid_batch_republishes_and_consumers_absorb_the_duplicates(crash_bus):
    config, start = crash_bus
    total = 3000
    add_probes(config, total)
    relay = start("probe")
    wait_for(lambda: (broker.queue_depth(config["AMQP_URI"], TALLY_QUEUE) or 0) >= 500,
             timeout=60, message="relay progressed")
    stop(relay, signal.SIGKILL)
    left = pending_outbox(config)
    assert 0 < left < total, "the kill must land mid-stream"

    relay = start("probe")
    wait_for(lambda: pending_outbox(config) == 0, timeout=60, message="relay resumed")
    queued = broker.queue_depth(config["AMQP_URI"], TALLY_QUEUE)
    assert queued >= total

    consumer = start("tally")
    wait_for(lambda: broker.queue_depth(config["AMQP_URI"], TALLY_QUEUE) == 0, timeout=120,
             message="queue drained")
    wait_for(lambda: tally(config)["distinct"] == total, timeout=30)
    time.sleep(0.5)
    stop(consumer, signal.SIGTERM)
    stop(relay, signal.SIGTERM)
    assert tally(config) == {"rows": total, "distinct": total}
