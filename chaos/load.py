"""Clients of the members service, as a gateway would be: each logical request has one
idempotency key, and a client that gets no answer in time sends it again with the same key
(on a new connection when the old one failed) until it is answered or ``deadline`` passes.

``Load(config, requests, rate).start()`` runs the requests from ``workers`` green threads, at most
``rate`` a second (None: as fast as they go); ``Request.reply`` is the answer, ``attempts`` how
often it was sent.
"""
import itertools
import time
from dataclasses import dataclass, field

import eventlet
from nameko.exceptions import RemoteError

from shared.bus.rpc import idempotent, rpc_client
from shared.errors import JicengError

HOURS = ("1", "1.5", "2", "2.5", "3", "4", "9")     # 9 h earns the rule's 8-point maximum


@dataclass
class Request:
    key: str
    method: str
    args: tuple
    service: str = "members"
    reply: object = None
    refused: str | None = None       # a JicengError: the service said no (not retried)
    attempts: int = 0
    errors: list = field(default_factory=list)
    answered_at: float | None = None

    @property
    def done(self) -> bool:
        return self.reply is not None or self.refused is not None


def activity_request(row, number, member_id, day) -> Request:
    """A volunteer activity whose ``project`` is its idempotency key, so every activity in
    members names the logical request that recorded it."""
    key = f"chaos:{row}:{number}"
    return Request(key, "record_activity", ({
        "member_id": member_id, "kind": "volunteer_service", "occurred_on": day.isoformat(),
        "hours": HOURS[number % len(HOURS)], "project": key},))


def revoke_request(record: Request) -> Request:
    return Request(f"{record.key}/revoke", "revoke_activity",
                   (record.reply["id"], "chaos: revoked by the suite"))


class _Client:
    """One green thread's RPC client, made again after any failure."""

    def __init__(self, config, timeout):
        self.config = config
        self.timeout = timeout
        self.proxy = None
        self.cluster = None

    def get(self):
        if self.cluster is None:
            self.proxy = rpc_client(self.config, timeout=self.timeout)
            with eventlet.Timeout(self.timeout + 5):
                self.cluster = self.proxy.start()
        return self.cluster

    def discard(self):
        """Let go of the connection without a word to the broker (after a timeout the socket
        may be mid-frame; a polite close could wait for an answer that never comes)."""
        proxy, self.proxy, self.cluster = self.proxy, None, None
        consumer = getattr(getattr(proxy, "_reply_listener", None), "queue_consumer", None)
        connection = getattr(consumer, "connection", None)
        if connection is not None:
            try:
                connection.collect()
            except Exception:
                pass
            consumer.stopped = True


class Load:
    def __init__(self, config, requests, rate=None, workers=16, timeout=3.0, max_timeout=None,
                 deadline=120.0, pause=0.2):
        self.config = config
        self.requests = list(requests)
        self.rate = rate
        self.workers = workers
        self.timeout = timeout                      # of the first attempt...
        self.max_timeout = max_timeout or timeout   # ...doubling up to this on each retry
        self.deadline = deadline
        self.pause = pause
        self._next = itertools.count()
        self._threads = []
        self.started = None
        self.finished = None

    def start(self):
        self.started = time.monotonic()
        self._threads = [eventlet.spawn(self._work) for _ in range(self.workers)]
        return self

    def wait(self):
        for thread in self._threads:
            thread.wait()
        self.finished = time.monotonic()
        return self

    def run(self):
        return self.start().wait()

    @property
    def done(self) -> bool:
        return all(thread.dead for thread in self._threads)

    @property
    def answered(self) -> int:
        return sum(1 for request in self.requests if request.done)

    @property
    def attempts(self) -> int:
        return sum(request.attempts for request in self.requests)

    def _work(self):
        client = _Client(self.config, max(self.max_timeout, 3.0))
        try:
            while True:
                index = next(self._next)
                if index >= len(self.requests):
                    return
                if self.rate:
                    wait = self.started + index / self.rate - time.monotonic()
                    if wait > 0:
                        eventlet.sleep(wait)
                self._call(client, self.requests[index])
        finally:
            client.discard()

    def _call(self, client, request):
        give_up = time.monotonic() + self.deadline
        timeout = self.timeout
        while True:
            request.attempts += 1
            try:
                service = idempotent(getattr(client.get(), request.service), request.key)
                with eventlet.Timeout(timeout):
                    request.reply = getattr(service, request.method)(*request.args)
                request.answered_at = time.monotonic()
                return
            except JicengError as exc:
                request.refused = f"{type(exc).__name__}: {exc}"
                request.answered_at = time.monotonic()
                return
            except (Exception, eventlet.Timeout) as exc:   # timeout, lost connection, remote crash
                if not isinstance(exc, RemoteError):
                    client.discard()
                request.errors.append(type(exc).__name__)
                if time.monotonic() >= give_up:
                    return
                timeout = min(timeout * 2, self.max_timeout)
                eventlet.sleep(self.pause)
