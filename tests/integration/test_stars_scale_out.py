"""Three stars processes share the township partitions; one is killed with kill -9 mid-stream.
The end state (every standing and every subject's ledger total) must equal one process scoring
the same events in order: nothing lost, nothing counted twice, revocations included."""
import json
import os
import re
import signal
import subprocess
import sys

import pytest
import yaml
from sqlalchemy import func, select

from services.members.service import MembersService
from services.stars import pipeline
from services.stars.models import Base, LedgerEntry, Revocation, ScoredEvent
from services.stars.service import StarsService
from shared import db, migrate
from shared.bus import topology
from shared.bus.outbox import BusSession, Relay
from shared.bus.publisher import ConfirmingPublisher
from shared.bus.store import declare_all
from shared.config import ROOT
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from tests.support import broker
from tests.support.fixtures import make_config
from tests.support.stars_state import scoring_state
from tests.support.running import wait_for

pytestmark = pytest.mark.integration

PARTITIONS = 4
HOLDING = re.compile(r"holding partitions \[([0-9, ]*)\] of (\d+)")
QUEUES = [topology.partition_queue_name(topology.dynamic_queue_name("stars", "on_events"), i)
          for i in range(PARTITIONS)]


def count(url, table):
    with db.database(url).reading() as session:
        return session.scalar(select(func.count()).select_from(table))


def outcome(url):
    return scoring_state(db.database(url))


def add_revocations(members_url, every=15):
    """Revoke every ``every``-th demo activity (in the members outbox, after the activities)."""
    database = db.database(members_url)
    outbox = MembersService.store.outbox_table
    with database.reading() as session:
        bodies = [json.loads(body) for body in session.scalars(
            select(outbox.c.body).where(outbox.c.type == "activity_recorded").order_by(outbox.c.id))]
    info = dict(outbox_table=outbox, source="members")
    with database.transaction(BusSession, info) as session:
        for body in bodies[::every]:
            data = body["data"]
            session.publish("activity_revoked", {
                key: data[key] for key in ("member_id", "branch_id", "township_id", "category",
                                           "activity_id")} | {"revoked_event_id": body["id"],
                                                              "reason": "entered twice"})
    return len(bodies[::every])


def published_events(members_url):
    outbox = MembersService.store.outbox_table
    with db.database(members_url).reading() as session:
        bodies = [json.loads(b) for b in session.scalars(select(outbox.c.body).order_by(outbox.c.id))]
    events = []
    for body in bodies:
        contract = registry.get(body["source"], body["type"])
        events.append(Envelope(**{**body, "data": contract.load(body["data"])}))
    return events


def relay(config):
    database = db.database(config["services"]["members"]["database_url"])
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    try:
        Relay(database, MembersService.store.outbox_table, publisher, batch_size=500).drain()
    finally:
        publisher.close()


def explain_difference(reference, url, expected, got):
    """The ledger rows and kept events behind the first subjects whose totals differ."""
    lines = []
    for key in sorted(k for k in set(expected) | set(got) if expected.get(k) != got.get(k))[:3]:
        for name, where in (("one process", reference), ("three processes", url)):
            with db.database(where).reading() as session:
                rows = session.execute(select(LedgerEntry.source_event_id, LedgerEntry.event_type,
                                              LedgerEntry.points, LedgerEntry.compensates_id,
                                              LedgerEntry.id).where(
                    LedgerEntry.subject_kind == key[0], LedgerEntry.subject_id == key[1])).all()
                kept = dict(session.execute(select(ScoredEvent.event_id, ScoredEvent.status)).all())
                revoked = dict(session.execute(select(Revocation.revoked_event_id,
                                                      Revocation.revoking_event_id)).all())
                inbox = StarsService.store.inbox_table
                claimed = dict(session.execute(select(inbox.c.event_id, inbox.c.handled_at)).all())
            lines.append(f"{key} {name}: " + "; ".join(
                f"{r.id} {r.event_type} {r.source_event_id[:8]} {r.points} comp={r.compensates_id} "
                f"[{kept.get(r.source_event_id)}] revoked by "
                f"{(revoked.get(r.source_event_id) or '-')[:8]} "
                f"(claimed: {claimed.get(revoked.get(r.source_event_id))}, "
                f"event claimed: {claimed.get(r.source_event_id)})" for r in rows
                if r.points > 1 or r.compensates_id))
    return "ledger totals per subject differ:\n" + "\n".join(lines)


def held(log_path):
    found = HOLDING.findall(open(log_path).read())
    return [int(p) for p in found[-1][0].split(",") if p.strip()] if found else []


def test_three_stars_processes_one_killed_end_as_one_process_would(amqp_uri, pg_url_factory,
                                                                   tmp_path, rulebooks):
    urls = {"members": pg_url_factory(), "stars": pg_url_factory()}
    migrate.upgrade(MembersService, urls["members"])
    migrate.upgrade(StarsService, urls["stars"])
    config = make_config(amqp_uri, urls, batch_size=100, batch_wait_ms=20,
                         partition_claim_seconds=0.5)
    config["stars"] = {"partitions": PARTITIONS}
    summary = MembersService.load_demo(config, scale=0.02)
    add_revocations(urls["members"])
    declare_all(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    processes = []
    try:
        for number in range(3):
            log = open(tmp_path / f"stars-{number}.log", "w")
            process = subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", "stars",
                                        "--config", str(path)], cwd=ROOT, stdout=log,
                                       stderr=subprocess.STDOUT, env=dict(os.environ, LOG_LEVEL="INFO"))
            process.log_path = log.name
            processes.append(process)
        wait_for(lambda: sorted(p for process in processes for p in held(process.log_path))
                 == list(range(PARTITIONS)) and all(held(p.log_path) for p in processes[:2]),
                 timeout=60, interval=0.2, message="the processes share the partitions")
        relay(config)
        kept = lambda: count(urls["stars"], ScoredEvent.__table__)  # noqa: E731
        wait_for(lambda: kept() >= summary["activities"] // 4, timeout=60, interval=0.05,
                 message="a quarter scored")
        victim = next(process for process in processes if held(process.log_path))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        assert kept() < summary["activities"], "the kill must land mid-stream"
        wait_for(lambda: kept() == summary["activities"], timeout=180, interval=0.25,
                 message="every activity kept")
        wait_for(lambda: all(broker.queue_depth(amqp_uri, q) == 0 for q in QUEUES), timeout=60,
                 interval=0.25, message="partition queues drained")
        survivors = [process for process in processes if process is not victim]
        for process in survivors:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            assert process.returncode == 0, open(process.log_path).read()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    reference = f"sqlite:///{tmp_path}/reference.db"
    database = db.database(reference)
    Base.metadata.create_all(database.engine)
    events = published_events(urls["members"])
    for start in range(0, len(events), 500):
        with database.transaction(BusSession, dict(outbox_table=StarsService.store.outbox_table,
                                                   source="stars")) as session:
            pipeline.absorb(session, rulebooks, events[start:start + 500])
    expected, got = outcome(reference), outcome(urls["stars"])
    assert got[1] == expected[1], explain_difference(reference, urls["stars"], expected[1], got[1])
    assert got[0] == expected[0], "standings"
    db.forget(reference)
