"""Record-to-standing latency: from ``members.record_activity`` returning to the stars service's
``score_changed`` naming that activity's event (published once the member's standing is
committed), at a steady offered rate.

A demo county at small scale (``scale``, default 0.05) is loaded and absorbed first; then members
and stars run in this process (``services_running``) while workers, each with its own RPC client,
record one volunteer activity every ``1/rate`` s for ``seconds`` s (members taken in turn, so no
monthly cap hides a change). A private queue bound to ``stars.events`` / ``score_changed`` takes
the time each activity's event id appears in a ``source_event_ids`` list. Members, stars, the
load and the spy share this process (and its GIL) on the 2-core machine.

With ``apart=True`` members and stars run as processes of their own (``python -m shared.cli
serve NAME``, as ``jiceng run`` starts them) and only the load and the spy share this one.

Run alone: ``.venv/bin/python -m bench.latency [rate] [seconds] [scale] [apart]``.
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import date  # noqa: E402

import yaml  # noqa: E402
from kombu import Connection, Exchange, Queue  # noqa: E402
from sqlalchemy import select  # noqa: E402

from services.members.models import Member  # noqa: E402
from services.members.service import MembersService  # noqa: E402
from services.stars.models import ScoredEvent  # noqa: E402
from services.stars.service import StarsService  # noqa: E402
from shared import db, migrate  # noqa: E402
from shared.bus import topology  # noqa: E402
from shared.bus.rpc import rpc_client  # noqa: E402
from shared.config import ROOT  # noqa: E402

sys.path.insert(0, os.getcwd())
from bench.demo_run import stop  # noqa: E402
from bench.stars import _count  # noqa: E402
from tests.support import broker  # noqa: E402
from tests.support.fixtures import make_config  # noqa: E402
from tests.support.running import services_running, wait_for  # noqa: E402

WORKERS = 16


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * fraction + 0.999999) - 1)] if ordered else None


class ScoreSpy:
    """Times of the first ``score_changed`` naming each source event id."""

    def __init__(self, amqp):
        self.seen = {}
        self.messages = 0
        self.stopping = False
        self.connection = Connection(amqp)
        self.queue = Queue(f"bench-latency-spy-{uuid.uuid4().hex[:8]}", durable=False,
                           auto_delete=True, exclusive=True,
                           exchange=Exchange(topology.events_exchange_name("stars"), type="topic",
                                             durable=True),
                           routing_key="score_changed")
        self.consumer = self.connection.Consumer(self.queue, callbacks=[self.on_message],
                                                 accept=["json"], prefetch_count=500)
        self.consumer.consume()
        self.thread = eventlet.spawn(self.loop)

    def on_message(self, body, message):
        now = time.perf_counter()
        message.ack()
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        self.messages += 1
        data = body.get("data") or {}
        if data.get("subject_kind") == "member":
            for event_id in data.get("source_event_ids") or [data.get("source_event_id")]:
                if event_id:
                    self.seen.setdefault(event_id, now)

    def loop(self):
        while not self.stopping:
            try:
                self.connection.drain_events(timeout=0.2)
            except TimeoutError:
                pass
            except OSError:
                if self.stopping:
                    return
                raise

    def close(self):
        self.stopping = True
        self.thread.wait()
        try:
            self.consumer.cancel()
        finally:
            self.connection.release()


@contextmanager
def served_apart(config, *names):
    """``python -m shared.cli serve NAME --config ...``, one process per service (as ``jiceng
    run`` starts them), until every one answers health."""
    folder = tempfile.mkdtemp(prefix="jiceng-bench-lat-")
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as handle:
        yaml.safe_dump(config, handle)
    env = dict(os.environ, LOG_LEVEL="WARNING")
    children = [subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", name, "--config", path],
                                 cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL)
                for name in names]
    try:
        with rpc_client(config, timeout=2) as cluster:
            def answering():
                try:
                    return all(getattr(cluster, name).health() for name in names)
                except Exception:
                    return False
            wait_for(answering, timeout=60, interval=0.2, message="services answering")
        yield children
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            stop(child, 30, signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)


def record_to_standing(amqp, rate=100.0, seconds=20.0, scale=0.05, apart=False) -> dict:
    """``apart``: members and stars in processes of their own instead of this one."""
    urls = {"members": broker.create_pg_database("jiceng_bench"),
            "stars": broker.create_pg_database("jiceng_bench")}
    try:
        migrate.upgrade(MembersService, urls["members"])
        migrate.upgrade(StarsService, urls["stars"])
        config = make_config(amqp, urls)
        summary = MembersService.load_demo(config, scale=scale)
        with db.database(urls["members"]).reading() as session:
            members = list(session.scalars(select(Member.id).where(Member.state == "active")
                                           .order_by(Member.id)))
        queues = [topology.partition_queue_name(topology.dynamic_queue_name("stars", "on_events"), i)
                  for i in range(8)]
        running = served_apart(config, "members", "stars") if apart \
            else services_running(config, MembersService, StarsService)
        with running:
            wait_for(lambda: _count(urls["stars"], ScoredEvent.__table__) >= summary["activities"],
                     timeout=600, interval=0.5, message="demo absorbed")
            wait_for(lambda: all(broker.queue_depth(amqp, q) == 0 for q in queues),
                     timeout=300, interval=0.5, message="stars queues drained")
            spy = ScoreSpy(amqp)
            try:
                found = _offer(config, spy, members, rate, seconds)
            finally:
                spy.close()
        found.update(services="separate processes" if apart else "in this process", demo_scale=scale, demo_members=len(members),
                     demo_events_absorbed_first=summary["activities"])
        return found
    finally:
        for url in urls.values():
            broker.drop_pg_database(url)


def _offer(config, spy, members, rate, seconds):
    total = int(rate * seconds)
    day = date.today().isoformat()
    returned, errors, late = {}, [], []
    state = {"next": 0}
    started = time.perf_counter()

    def worker():
        with rpc_client(config) as cluster:
            while True:
                i = state["next"]
                if i >= total:
                    return
                state["next"] = i + 1
                due = started + i / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    eventlet.sleep(wait)
                else:
                    late.append(-wait)
                try:
                    recorded = cluster.members.record_activity({
                        "member_id": members[i % len(members)], "kind": "volunteer_service",
                        "occurred_on": day, "hours": "1", "project": "bench"})
                except Exception as exc:  # counted, never raised: a bench, not a test
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                returned[recorded["event_id"]] = time.perf_counter()

    pool = [eventlet.spawn(worker) for _ in range(WORKERS)]
    for thread in pool:
        thread.wait()
    offered_s = time.perf_counter() - started
    try:
        wait_for(lambda: all(e in spy.seen for e in returned), timeout=30, interval=0.1,
                 message="every activity's score_changed")
    except AssertionError:
        pass
    samples = [max(0.0, spy.seen[e] - t) * 1000 for e, t in returned.items() if e in spy.seen]
    missing = len(returned) - len(samples)
    # an activity whose score_changed never came counts as slower than any seen
    ranked = samples + [float("inf")] * missing
    return {"offered_per_s": rate, "seconds": seconds, "recorded": len(returned),
            "achieved_per_s": len(returned) / offered_s, "errors": len(errors),
            "first_errors": errors[:3], "missing": missing,
            "late_starts": len(late), "score_changed_seen": spy.messages,
            "p50_ms": percentile(ranked, 0.50), "p90_ms": percentile(ranked, 0.90),
            "p99_ms": percentile(ranked, 0.99), "max_ms": max(ranked) if ranked else None}


def main():
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 100
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    scale = float(sys.argv[3]) if len(sys.argv) > 3 else 0.05
    apart = sys.argv[4:5] == ["apart"]
    vhost = broker.create_vhost("jiceng-bench")
    try:
        found = record_to_standing(broker.amqp_uri(vhost), rate, seconds, scale, apart)
    finally:
        broker.delete_vhost(vhost)
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
