"""The rows of ``make chaos``: one fault each, against real processes in an ``Env`` of its own.

Every row records volunteer activities through members' ``record_activity`` RPC (clients with
one idempotency key per logical request, retrying after a timeout), injects its fault while the
stream runs (or around it), ends the fault, waits until stars reflects every activity members
holds (catch-up: from the end of the fault), then judges both databases (``chaos.check``).
"""
import base64
import csv
import io
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import eventlet
from kombu import Connection, Queue
from sqlalchemy import func, select

from chaos import check
from chaos.env import PARTITION_QUEUES, Env, MainBroker, OwnBroker
from chaos.load import Load, Request, activity_request, revoke_request
from chaos.processes import HarnessError, RabbitNode, wait_until
from services.members.models import Activity, Member, OrgUnit
from services.members.service import MembersService
from services.stars.models import ScoredEvent
from shared import db
from shared.bus import topology
from shared.bus.publisher import ConfirmingPublisher
from shared.bus.subscribe import raw_body
from shared.contracts import registry
from shared.contracts.envelope import PARTITION_HEADER, Envelope, partition_key

HOLD_QUEUE = "chaos.hold"
ORIGIN_HEADER = "x-chaos-origin"


@dataclass
class Result:
    row: str
    fault: str
    sent: int = 0
    committed: int = 0
    reflected: int = 0
    lost: int = 0
    duplicated: int = 0
    members_off: int = 0
    members_checked: int = 0
    catch_up: float | None = None
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    details: list = field(default_factory=list)
    error: str | None = None
    folder: str | None = None

    @property
    def ok(self) -> bool:
        return (self.error is None and not self.lost and not self.duplicated
                and not self.members_off and self.catch_up is not None)

    def as_dict(self) -> dict:
        return {"row": self.row, "fault": self.fault, "sent": self.sent,
                "committed": self.committed, "reflected": self.reflected, "lost": self.lost,
                "duplicated": self.duplicated, "members_off": self.members_off,
                "members_checked": self.members_checked,
                "catch_up_s": None if self.catch_up is None else round(self.catch_up, 1),
                "seconds": round(self.seconds, 1), "ok": self.ok, "notes": self.notes,
                "error": self.error, "details": self.details[:30]}


class Context:
    """What every row gets: the scale of its volumes, a folder, the day, the result to fill."""

    def __init__(self, scale, folder, result):
        self.scale = scale
        self.folder = folder
        self.result = result
        self.today = date.today()
        self.env = None
        self.requests = []

    def n(self, count, minimum=20) -> int:
        return max(minimum, int(count * self.scale))

    def note(self, text):
        self.result.notes.append(text)

    def environment(self, broker=None, **options) -> Env:
        self.env = Env(self.folder, broker or MainBroker(), **options)
        try:
            self.env.setup()
        except BaseException:
            self.env.close()
            self.env = None
            raise
        return self.env

    def day(self, number) -> date:
        """Activity dates spread over the last 40 days (two months, one quarter or two)."""
        return self.today - timedelta(days=number % 40)

    def activities(self, count, start=0) -> list[Request]:
        row = self.result.row
        members = self.env.member_ids
        made = [activity_request(row, number, members[(number * 7919) % len(members)],
                                 self.day(number)) for number in range(start, start + count)]
        self.requests += made
        return made

    def revocations(self, records) -> list[Request]:
        made = [revoke_request(r) for r in records if r.reply is not None]
        self.requests += made
        return made

    def load(self, requests, rate=None, **options) -> Load:
        return Load(self.env.config, requests, rate=rate, **options)

    def wait(self, load) -> Load:
        """``load.wait()``, failing fast when a service process dies on its own meanwhile."""
        while not load.done:
            self.env.check_alive()
            time.sleep(0.2)
        return load.wait()

    def run(self, requests, **options) -> Load:
        return self.wait(self.load(requests, **options).start())


# -- waiting ---------------------------------------------------------------------------------------

def stars_kept(env) -> int:
    with db.database(env.urls["stars"]).reading() as session:
        return session.scalar(select(func.count()).select_from(ScoredEvent))


STALL_SECONDS = 60


def settle(ctx, fault_end, timeout=180, replay=False) -> bool:
    """Wait until stars reflects every activity members holds; the catch-up time is measured
    from ``fault_end``. With ``replay``, whatever is in the dead-letter queues once no retry is
    waiting any more is replayed (``jiceng dlq replay QUEUE --all``), as an operator would. Then
    wait until no message waits in the partition and retry queues. Gives up after ``timeout``
    s, or when stars has kept no new event for ``STALL_SECONDS`` while messages wait (a hang);
    returns whether it caught up."""
    env = ctx.env
    deadline = time.monotonic() + timeout
    replays = 0
    progress, since = None, time.monotonic()
    while True:
        env.check_alive()
        if check.caught_up(env.urls["members"], env.urls["stars"], env.config):
            ctx.result.catch_up = time.monotonic() - fault_end
            break
        if replay and env.waiting_retries() == 0 and env.dead_letters() > 0:
            replayed = env.dead_letters()
            env.replay_dead_letters()
            replays += replayed
        now = time.monotonic()
        kept, waiting = stars_kept(env), env.queued() + env.waiting_retries()
        if kept != progress or not waiting:
            progress, since = kept, now
        elif now - since >= STALL_SECONDS:
            ctx.note(f"stalled: stars kept no new event for {STALL_SECONDS} s while {waiting} "
                     "messages waited")
            break
        if now >= deadline:
            ctx.note(f"not caught up after {timeout} s")
            break
        time.sleep(0.3)
    if replays:
        ctx.note(f"{replays} dead letters replayed with `jiceng dlq replay --all`")
    if ctx.result.catch_up is None:
        return False
    try:
        wait_until(lambda: env.queued() == 0 and env.waiting_retries() == 0, 60, 0.5,
                   "the partition and retry queues to drain")
    except HarnessError as exc:
        ctx.note(str(exc))
    return True


def answered_at_least(load, count):
    return lambda: load.answered >= count


def judge(ctx, dead_letters_expected=0):
    env = ctx.env
    verdict = check.verify(env.urls["members"], env.urls["stars"], env.config,
                           ctx.result.row, ctx.requests)
    result = ctx.result
    result.sent = sum(1 for r in ctx.requests if r.method != "revoke_activity")
    revokes = [r for r in ctx.requests if r.method == "revoke_activity"]
    if revokes:
        ctx.note(f"+{len(revokes)} revoke_activity requests")
    result.committed, result.reflected = verdict.committed, verdict.reflected
    result.lost, result.duplicated = verdict.lost, verdict.duplicated
    result.members_off, result.members_checked = verdict.members_off, verdict.members_checked
    result.details += verdict.details
    attempts = sum(r.attempts for r in ctx.requests)
    if attempts > len(ctx.requests):
        ctx.note(f"{attempts - len(ctx.requests)} client retries with the same key")
    repeats = env.log_lines("members", "answered before")
    if repeats:
        ctx.note(f"members answered {repeats} repeated requests from their stored replies")
    unanswered = [r for r in ctx.requests if not r.done]
    refused = [r for r in ctx.requests if r.refused]
    if unanswered:
        result.error = f"{len(unanswered)} requests never answered (e.g. {unanswered[0].key}: " \
                       f"{unanswered[0].errors[-3:]})"
    if refused:
        result.error = f"{len(refused)} requests refused (e.g. {refused[0].key}: " \
                       f"{refused[0].refused})"
    dead = env.dead_letters()
    if dead != dead_letters_expected:
        message = f"{dead} messages in the dead-letter queues, expected {dead_letters_expected}"
        result.error = result.error or message
        ctx.note(message)
    elif dead:
        ctx.note(f"all {dead} bad messages in the dead-letter queues")


# -- the rows --------------------------------------------------------------------------------------

def consumer_down(ctx):
    env = ctx.environment()
    stars = env.running("stars")[0]
    code = stars.stop()
    ctx.run(ctx.activities(ctx.n(600)), rate=None)
    queued = env.queued()
    fault_end = time.monotonic()
    env.start("stars")
    ctx.note(f"stars stopped (exit {code}); {queued} events waited in its queues")
    settle(ctx, fault_end)
    judge(ctx)


def _stars_mid_stream(ctx, how):
    env = ctx.environment(stars=2)
    count = ctx.n(800)
    load = ctx.load(ctx.activities(count), rate=count / 10).start()
    wait_until(lambda: stars_kept(env) >= count * 0.3, 120, 0.05, "a third of the stream scored")
    running = env.running("stars")
    victim = next((p for p in running if held_partitions(p)), running[0])
    holding = held_partitions(victim)
    if how == "kill":
        victim.kill9()
        ctx.note(f"kill -9 of the process holding partitions {holding} after "
                 f"{stars_kept(env)} of {count} scored")
    else:
        code = victim.stop()
        ctx.note(f"SIGTERM to the process holding partitions {holding} after "
                 f"{stars_kept(env)} of {count} scored, exit {code}")
        if code != 0:
            ctx.result.error = f"stars exited with {code} after SIGTERM"
    fault_end = time.monotonic()
    env.start("stars")
    ctx.wait(load)
    settle(ctx, fault_end)
    judge(ctx)


HOLDING = re.compile(r"holding partitions \[([0-9, ]*)\] of \d+")


def held_partitions(process) -> list[int]:
    """The partitions a stars process said last that it holds (its log, at INFO)."""
    try:
        with open(process.log_path, encoding="utf-8", errors="replace") as handle:
            found = HOLDING.findall(handle.read())
    except OSError:
        return []
    return [int(p) for p in found[-1].split(",") if p.strip()] if found else []


def stars_killed(ctx):
    _stars_mid_stream(ctx, "kill")


def stars_terminated(ctx):
    _stars_mid_stream(ctx, "term")


def members_killed(ctx):
    env = ctx.environment()
    count = ctx.n(600)
    load = ctx.load(ctx.activities(count), timeout=2.0).start()      # 16 clients, no pause
    wait_until(answered_at_least(load, count * 0.4), 120, 0.02, "40% of the requests answered")

    def in_flight():
        return sum(1 for r in load.requests if r.attempts and not r.done)

    wait_until(lambda: in_flight() >= 1, 30, 0.001, "requests in flight")
    flying = in_flight()
    env.running("members")[0].kill9()
    time.sleep(1.0)
    fault_end = time.monotonic()
    env.start("members")
    ctx.note(f"kill -9 with {flying} requests in flight")
    ctx.wait(load)
    settle(ctx, fault_end)
    judge(ctx)


def _sheet(requests) -> str:
    """A CSV sheet (base64) of volunteer activities of one branch (``member_id`` column)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["member_id", "kind", "occurred_on", "hours", "project"])
    for request in requests:
        payload = request.args[0]
        writer.writerow([payload["member_id"], payload["kind"], payload["occurred_on"],
                         payload["hours"], payload["project"]])
    return base64.b64encode(out.getvalue().encode("utf-8")).decode("ascii")


def _sheets(ctx, sheets, size) -> list[Request]:
    """``sheets`` import requests of ``size`` activities each, each sheet one branch's."""
    env = ctx.env
    with db.database(env.urls["members"]).reading() as session:
        rows = session.execute(select(Member.id, Member.branch_id).order_by(Member.id)).all()
    by_branch = {}
    for member_id, branch_id in rows:
        by_branch.setdefault(branch_id, []).append(member_id)
    branches = sorted(by_branch)[::max(1, len(by_branch) // sheets)][:sheets]
    imports = []
    for number, branch in enumerate(branches):
        members = by_branch[branch]
        start = number * size
        requests = [activity_request(ctx.result.row, start + k, members[k % len(members)],
                                     ctx.day(start + k)) for k in range(size)]
        imports.append(Request(f"chaos:{ctx.result.row}:sheet-{number}", "import_activities",
                               (branch, f"chaos-{number}.csv", _sheet(requests))))
    return imports


HOLD_LOCK = 7_250_001      # the advisory lock the relay's mark waits for in ``relay_killed``


def relay_killed(ctx):
    """Stars is down; a sheet of activities is imported; while members' relay is between
    publishing the batch (confirmed by the broker) and marking its outbox rows, members is
    killed with kill -9. The relay is held exactly there, every time: for this moment the suite
    adds a trigger to members' outbox table whose UPDATE (the relay's mark) waits for an
    advisory lock the suite holds. A second sheet is sent while members is down. The restarted
    relay publishes the unmarked batch again; stars must count each event once."""
    env = ctx.environment(bus={"relay_batch_size": 1000})
    env.running("stars")[0].stop()
    size = ctx.n(400, minimum=20)
    first, second = _sheets(ctx, 2, size)
    ctx.requests = [first, second]
    outbox = MembersService.store.outbox_table
    members_db = db.database(env.urls["members"])

    def pending():
        with members_db.reading() as session:
            return session.scalar(select(func.count()).select_from(outbox).where(
                outbox.c.status == "pending", outbox.c.type == "activity_recorded"))

    with members_db.engine.connect() as holder:
        holder.exec_driver_sql(f"SELECT pg_advisory_lock({HOLD_LOCK})")
        holder.commit()
        _hold_marks(members_db, outbox.name, True)
        try:
            ctx.run([first], workers=1, timeout=30.0)
            wait_until(lambda: env.queued() >= size, 60, 0.05,
                       "the relay to publish the batch it cannot mark")
            queued, unmarked = env.queued(), pending()
            env.running("members")[0].kill9()
        finally:     # unlock first: dropping the trigger waits for the held transaction
            holder.exec_driver_sql(f"SELECT pg_advisory_unlock({HOLD_LOCK})")
            holder.commit()
            _hold_marks(members_db, outbox.name, False)
    if unmarked != size:
        raise HarnessError(f"{size - unmarked} rows of the held batch were marked")
    ctx.note(f"kill -9 with the relay's batch published ({queued} events queued) and its "
             f"{unmarked} outbox rows unmarked")
    load = ctx.load([second], workers=1, timeout=5.0).start()   # while members is down
    time.sleep(1.0)
    fault_end = time.monotonic()
    env.start("members")
    ctx.wait(load)
    wait_until(lambda: pending() == 0, 120, 0.2, "the relay to publish the rest")
    queued = env.queued()
    committed = _count(env.urls["members"], Activity)
    ctx.note(f"{queued - committed} events published twice ({queued} queued for {committed} "
             "activities), then stars started")
    env.start("stars")
    settle(ctx, fault_end)
    judge(ctx)
    ctx.result.sent = 2 * size
    ctx.note("sent as 2 import_activities requests (a sheet of one branch each)")


def _hold_marks(database, table, on):
    """Add (``on``) or drop the trigger that makes an UPDATE of ``table`` wait for
    ``HOLD_LOCK`` (test instrumentation of members' database, never left behind)."""
    with database.engine.begin() as connection:
        if on:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION chaos_hold_marks() RETURNS trigger AS $$ BEGIN "
                f"PERFORM pg_advisory_xact_lock_shared({HOLD_LOCK}); RETURN NEW; END $$ "
                "LANGUAGE plpgsql")
            connection.exec_driver_sql(
                f"CREATE TRIGGER chaos_hold_marks BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION chaos_hold_marks()")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS chaos_hold_marks ON {table}")


def _count(url, model) -> int:
    with db.database(url).reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def connections_closed(ctx):
    env = ctx.environment(stars=2)
    count = ctx.n(800)
    load = ctx.load(ctx.activities(count), rate=count / 12).start()
    fault_end, closed = None, []
    for share in (0.3, 0.6):
        wait_until(answered_at_least(load, count * share), 120, 0.05, f"{share:.0%} answered")
        closed.append(env.broker.close_connections())
        fault_end = time.monotonic()
    ctx.note(f"rabbitmqctl close_all_connections at 30% and 60% of the stream ({closed[0]} "
             "connections open before the first)")
    ctx.wait(load)
    settle(ctx, fault_end)
    judge(ctx)


def node_restarted(ctx):
    node = RabbitNode(os.path.join(ctx.folder, "rabbit"))
    node.start()
    try:
        env = ctx.environment(broker=OwnBroker(node))
        count = ctx.n(500)
        load = ctx.load(ctx.activities(count), rate=count / 10, deadline=240).start()
        wait_until(answered_at_least(load, count * 0.35), 120, 0.05, "35% answered")
        stopped = time.monotonic()
        node.stop()
        time.sleep(3)
        node.start()
        fault_end = time.monotonic()
        ctx.note(f"node {node.NODE} on port {node.port} down for "
                 f"{fault_end - stopped:.0f} s (stop, 3 s, start)")
        ctx.wait(load)
        settle(ctx, fault_end)
        judge(ctx)
    finally:
        if ctx.env is not None:
            ctx.env.close()
            ctx.env = None
        node.stop()


def _database_outage(ctx, seconds):
    env = ctx.environment(db_proxy=True)
    count = ctx.n(500)
    load = ctx.load(ctx.activities(count), rate=count / 15).start()
    wait_until(lambda: stars_kept(env) >= count * 0.15, 120, 0.05, "the stream flowing")
    env.proxy.refuse()
    time.sleep(seconds)
    env.proxy.accept()
    fault_end = time.monotonic()
    ctx.note(f"refused for {seconds} s, {env.dead_letters()} dead letters when it came back")
    ctx.wait(load)
    settle(ctx, fault_end, replay=True)
    judge(ctx)


def database_10s(ctx):
    _database_outage(ctx, 10)


def database_60s(ctx):
    _database_outage(ctx, 60)


def _poison(ctx) -> list[dict]:
    """Bad messages of every kind, as ``ConfirmingPublisher.publish`` arguments."""
    env = ctx.env
    with db.database(env.urls["members"]).reading() as session:
        member = session.execute(select(Member.id, Member.branch_id, Member.category).where(
            Member.id == env.member_ids[0])).one()
        township_id = session.scalar(select(OrgUnit.township_id).where(
            OrgUnit.id == member.branch_id))
    data = {"member_id": member.id, "branch_id": member.branch_id, "township_id": township_id,
            "category": member.category, "activity_id": 10 ** 9, "kind": "volunteer_service",
            "occurred_on": ctx.today.isoformat(), "hours": "2", "team_id": None,
            "project": "chaos:poison", "meeting_kind": None, "attended": None, "amount": None,
            "households": None}
    version = registry.get("members", "activity_recorded").version

    def envelope(**changes):
        body = Envelope(type="activity_recorded", source="members", version=version,
                        data=dict(data)).to_wire()
        body.update(changes)
        return body

    exchange, key = topology.events_exchange_name("members"), "activity_recorded"
    headers = {PARTITION_HEADER: str(township_id)}
    bad = [
        ("not UTF-8", b"\xff\xfe\x00 not text", "application/json"),
        ("not JSON", b"{this is not json", "application/json"),
        ("text/plain", b"hello", "text/plain"),
        ("XML", b"<activity/>", "application/xml"),
        ("pickle", b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.",
         "application/x-python-serialize"),
        ("JSON, no envelope", b'{"hello": "world"}', "application/json"),
        ("JSON list", b"[1, 2, 3]", "application/json"),
        ("empty body", b"", "application/json"),
    ]
    messages = []
    for name, body, content_type in bad:
        messages.append(dict(name=name, exchange=exchange, routing_key=key, body=body,
                             content_type=content_type, message_id=f"poison-{uuid.uuid4()}",
                             headers=headers))
    for name, body in [
        ("payload breaks the contract", envelope(data={**data, "member_id": "abc"})),
        ("unknown event type", envelope(type="activity_teleported")),
        ("envelope without data", {k: v for k, v in envelope().items() if k != "data"}),
        ("data not an object", envelope(data=[1, 2])),
        ("handler fails every time (hours 1e30 overflow the ledger)",
         envelope(data={**data, "hours": "1e30"})),
    ]:
        messages.append(dict(name=name, exchange=exchange, routing_key=key, body=body,
                             message_id=body.get("id") or f"poison-{uuid.uuid4()}",
                             headers={PARTITION_HEADER: partition_key(body)}))
    # the same again, straight into a partition queue (as a misbehaving publisher could)
    direct = [dict(m, exchange="", routing_key=PARTITION_QUEUES[i % len(PARTITION_QUEUES)],
                   message_id=f"{m['message_id']}-direct" if isinstance(m["body"], bytes)
                   else m["message_id"])
              for i, m in enumerate(messages)]
    for m in direct:
        if isinstance(m["body"], dict) and "id" in m["body"]:
            m["body"] = {**m["body"], "id": str(uuid.uuid4())}
            m["message_id"] = m["body"]["id"]
    return messages + direct


def poison(ctx):
    env = ctx.environment()
    count = ctx.n(500)
    load = ctx.load(ctx.activities(count), rate=count / 10).start()
    wait_until(answered_at_least(load, count * 0.3), 120, 0.05, "30% answered")
    bad = _poison(ctx)
    publisher = ConfirmingPublisher(env.config["AMQP_URI"])
    try:
        for position, message in enumerate(bad):
            name = message.pop("name")
            routed = publisher.publish(**message)
            if not routed:
                raise HarnessError(f"poison message {name!r} was not routed")
            eventlet.sleep(0.05 if position % 3 else 0.2)   # among the good ones
    finally:
        publisher.close()
    fault_end = time.monotonic()
    ctx.note(f"{len(bad)} bad messages of {len(bad) // 2} kinds, via the exchange and straight "
             "into partition queues")
    ctx.wait(load)
    if settle(ctx, fault_end):
        wait_until(lambda: env.waiting_retries() == 0, 60, 0.5, "retries to finish")
    judge(ctx, dead_letters_expected=len(bad))


def _republish(env, since_id=0, copies=1) -> tuple[int, int]:
    """Publish members' already published events again (same id, body, partition key);
    returns (last outbox id, messages published)."""
    outbox = MembersService.store.outbox_table
    with db.database(env.urls["members"]).reading() as session:
        rows = session.execute(select(outbox.c.id, outbox.c.event_id, outbox.c.type,
                                      outbox.c.body).where(
            outbox.c.id > since_id, outbox.c.status == "published",
            outbox.c.type.in_(("activity_recorded", "activity_revoked")))
            .order_by(outbox.c.id)).all()
    if not rows:
        return since_id, 0
    import json
    from shared.bus.publisher import Outgoing
    publisher = ConfirmingPublisher(env.config["AMQP_URI"])
    try:
        batch = []
        for row in rows:
            body = json.loads(row.body)
            for _ in range(copies):
                batch.append(Outgoing(exchange=topology.events_exchange_name("members"),
                                      routing_key=row.type, body=body, message_id=row.event_id,
                                      headers={PARTITION_HEADER: partition_key(body)}))
        outcomes = publisher.publish_batch(batch)
        if not all(outcomes):
            raise HarnessError("a duplicate was not routed")
    finally:
        publisher.close()
    return rows[-1].id, len(batch)


def duplicates(ctx):
    env = ctx.environment(stars=2)
    count = ctx.n(600)
    records = ctx.activities(count)
    load = ctx.load(records, rate=count / 10).start()
    published, state = 0, {"last": 0}
    while not all(r.done for r in records):
        state["last"], sent = _republish(env, state["last"], copies=1 + (state["last"] % 2))
        published += sent
        time.sleep(0.3)
    ctx.wait(load)
    revokes = ctx.revocations(records[::5])
    ctx.run(revokes)
    wait_until(lambda: _pending(env) == 0, 60, 0.2, "members' relay to publish everything")
    _, sent = _republish(env, 0, copies=1)
    published += sent
    fault_end = time.monotonic()
    ctx.note(f"{published} duplicate messages: each event again once or twice while the stream "
             "ran, then every event once more")
    settle(ctx, fault_end)
    judge(ctx)


def _pending(env) -> int:
    outbox = MembersService.store.outbox_table
    with db.database(env.urls["members"]).reading() as session:
        return session.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.status == "pending"))


def _move(amqp, queues, destination) -> int:
    """Move every message of ``queues`` to ``destination(queue, headers)`` (a queue name),
    publishing each copy with a confirm before acknowledging the original."""
    moved = 0
    publisher = ConfirmingPublisher(amqp)
    try:
        with Connection(amqp) as connection:
            channel = connection.channel()
            for name in queues:
                queue = Queue(name, durable=True).bind(channel)
                while True:
                    message = queue.get(no_ack=False)
                    if message is None:
                        break
                    headers = dict(message.headers or {})
                    target = destination(name, headers)
                    routed = publisher.publish(
                        exchange="", routing_key=target, body=raw_body(message),
                        message_id=message.properties.get("message_id") or "",
                        headers=headers, content_type=message.content_type,
                        content_encoding=message.content_encoding,
                        declare=(Queue(target, durable=True, auto_delete=False),))
                    if not routed:
                        message.requeue()
                        raise HarnessError(f"could not move a message to {target}")
                    message.ack()
                    moved += 1
            channel.close()
    finally:
        publisher.close()
    return moved


def revocations(ctx):
    """After: activities scored, then half revoked while more are recorded (two stars
    processes). With: stars stopped, activities and revocations queued together, stars
    started (they meet in one batch). Before: stars stopped, activities recorded and moved
    aside, half revoked, the activities put back behind their revocations, stars started."""
    env = ctx.environment(stars=2)
    size = ctx.n(150)
    # after, under concurrency
    first = ctx.activities(size)
    ctx.run(first, rate=size / 4)
    wait_until(lambda: check.caught_up(env.urls["members"], env.urls["stars"], env.config), 120,
               0.25, "the first activities scored")
    more = ctx.activities(size, start=size)
    after = ctx.revocations(first[::2])
    loads = [ctx.load(after, workers=8).start(), ctx.load(more, workers=8).start()]
    for load in loads:
        ctx.wait(load)
    # with: in the same batches
    for process in env.running("stars"):
        process.stop()
    together = ctx.activities(size, start=2 * size)
    ctx.run(together)
    ctx.run(ctx.revocations(together[::2]))
    env.start("stars")
    env.start("stars")
    wait_until(lambda: check.caught_up(env.urls["members"], env.urls["stars"], env.config), 120,
               0.25, "activities and revocations absorbed together")
    # before: revocations first
    for process in env.running("stars"):
        process.stop()
    later = ctx.activities(size, start=3 * size)
    ctx.run(later)
    wait_until(lambda: _pending(env) == 0, 60, 0.1, "members' relay")
    held = _move(env.config["AMQP_URI"], PARTITION_QUEUES,
                 lambda queue, headers: headers.__setitem__(ORIGIN_HEADER, queue) or HOLD_QUEUE)
    ctx.run(ctx.revocations(later[::2]))
    wait_until(lambda: _pending(env) == 0, 60, 0.1, "members' relay")
    back = _move(env.config["AMQP_URI"], [HOLD_QUEUE],
                 lambda queue, headers: headers.pop(ORIGIN_HEADER))
    if held != back or held < len(later):
        raise HarnessError(f"moved {held} activities aside and {back} back for {len(later)}")
    fault_end = time.monotonic()
    env.start("stars")
    env.start("stars")
    ctx.note(f"{len(after)} revoked after scoring (beside {len(more)} new), "
             f"{len(together) // 2} queued with their activity, {len(later) // 2} delivered "
             f"before it ({held} activities held back)")
    settle(ctx, fault_end)
    judge(ctx)


def client_retries(ctx):
    """Clients that give up on an answer after 100 ms (doubling up to 2 s) and send the
    request again with the same key, at full speed."""
    env = ctx.environment()
    count = ctx.n(400)
    started = time.monotonic()
    ctx.run(ctx.activities(count), timeout=0.1, max_timeout=2.0)
    fault_end = time.monotonic()
    timed_out = sum(r.attempts - 1 for r in ctx.requests)
    ctx.note(f"{timed_out} timeouts in {fault_end - started:.0f} s")
    settle(ctx, fault_end)
    judge(ctx)


@dataclass(frozen=True)
class Row:
    id: str
    fault: str
    run: object


ROWS = [
    Row("consumer-down", "stars down while activities are recorded, then started", consumer_down),
    Row("stars-kill", "stars killed (kill -9) mid-stream, 2 processes", stars_killed),
    Row("stars-term", "stars stopped (SIGTERM) mid-stream, 2 processes", stars_terminated),
    Row("members-kill", "members killed (kill -9) with write RPCs in flight", members_killed),
    Row("relay-kill", "members killed (kill -9) with its relay mid-batch", relay_killed),
    Row("connections", "broker closes every connection of the vhost, twice", connections_closed),
    Row("node-restart", "own RabbitMQ node stopped and started mid-stream", node_restarted),
    Row("db-10s", "stars database refusing connections for 10 s", database_10s),
    Row("db-60s", "stars database refusing connections for 60 s", database_60s),
    Row("poison", "poison and undecodable messages among good ones", poison),
    Row("duplicates", "every event published again, once or twice", duplicates),
    Row("revocations", "revocations before, with and after their activity", revocations),
    Row("client-retries", "clients retrying write RPCs after a timeout", client_retries),
]


def run_row(row, scale, folder) -> Result:
    result = Result(row.id, row.fault)
    ctx = Context(scale, folder, result)
    started = time.monotonic()
    try:
        row.run(ctx)
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        import traceback
        result.details.append(traceback.format_exc()[-3000:])
    finally:
        if ctx.env is not None:
            ctx.env.close()
    result.seconds = time.monotonic() - started
    return result

