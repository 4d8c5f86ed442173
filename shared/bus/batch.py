"""``@subscribe_batch``: consume events in batches, optionally partitioned over processes.

    class StarsService(ServiceBase):
        store = Store(Base.metadata)

        @subscribe_batch(bindings_from=lambda config: [("members", "activity_recorded"), ...],
                         partitions_from=lambda config: 8)   # optional; default 1
        def on_events(self, events):          # list[Envelope], payloads contract-validated
            with self.store.handling_batch(events) as (session, fresh):
                ...                           # fresh: never handled before, in delivery order

The handler gets up to ``bus.batch_size`` events (default 500), or what arrived within
``bus.batch_wait_ms`` (default 50) of a batch's first event; ``batch_size=`` and
``batch_wait_ms=`` on the decorator override both. It runs as an ordinary nameko worker (so
``store`` and other dependencies work) and must be idempotent: ``handling_batch`` claims every
event in the inbox in the handler's transaction and leaves duplicates out of ``fresh``.

Settling, in delivery order:

* a body that is not JSON, not an envelope, of an unknown contract or breaking its contract is
  dead-lettered at once (the queue's ``.dlq``, with ``x-jiceng-error``), never handed over;
* a batch whose handler returned is acknowledged whole (after its transaction committed);
* a batch whose handler raised because the database is out of reach (``retry.outage``: the
  connection refused or lost, a pool timeout, a deadlock) is held, unacknowledged, and handed
  over again after a capped exponential backoff with jitter (``HOLD_BASE`` to ``HOLD_MAX``
  seconds), for as long as the database does not answer (while it answers, ``HOLD_TRIES`` times
  at most, and an event alone not at all): every event of it would fail the same way one by
  one, and an outage must not use up their retries. Logged as one WARNING when it starts, one per 30 s while it lasts and one INFO
  when the database is back (``shared.logs.Repeating``), never per try;
* a batch whose handler raised otherwise is logged once ("batch of N failed: ...; retrying one by
  one") and each of its events is handed over alone, in its own worker and transaction; one that
  still fails takes the ``@subscribe`` path: retried with capped exponential backoff and jitter
  (``bus.retry``, see ``shared.bus.retry``; back to the same queue or partition), then
  dead-lettered. Retried events are handed over alone.

Partitions (``partitions_from(config)`` = N > 1): the relay stamps each event with a partition
key (``shared.contracts.envelope.partition_key``: its township); a consistent-hash exchange
routes it to one of N partition queues (names in ``shared.bus.topology``), and each partition
queue is read by one process at a time, so the events of one township are handled in order by
one consumer. Processes share the partitions out among themselves (``shared.bus.partitions``)
and take over those of a process that dies. With N = 1 every process reads the one queue.

One green thread per subscription and process drains all its channels into one buffer and runs
one batch at a time; it reconnects with a capped exponential backoff with jitter
(``RESTART_MAX``), reset once it serves again, when the broker connection drops
(unacknowledged messages come back). Stopping finishes the batch in hand, then closes.
"""
import logging
import random
import threading
import time
from collections import deque

from amqp.exceptions import AMQPError
from eventlet.event import Event
from kombu.exceptions import OperationalError
from nameko.extensions import Entrypoint

from shared import config as config_module
from shared import logs
from shared.bus import refusals, retry, topology
from shared.bus.batch_consumer import BatchConsumer
from shared.bus.failures import FailureRouting
from shared.bus.inbox import AlreadyHandled
from shared.bus.subscribe import UNREADABLE, BusPublisher, decode, raw_body, read_event

log = logging.getLogger(__name__)
CONNECTION_ERRORS = (OSError, AMQPError, OperationalError)
HOLD_BASE, HOLD_MAX, HOLD_TRIES = 0.5, 5.0, 3     # a batch held through a database outage
RESTART_BASE, RESTART_MAX, STABLE_SECONDS = 0.5, 10.0, 5.0   # the batch loop's own restarts
STOPPED = object()       # what ``_attempt`` returns when the service stops while it holds a batch


class Batcher:
    """Cuts a stream into batches: ``size`` items at most, or what arrived within ``wait``
    seconds of the first item of a batch, whichever comes first."""

    def __init__(self, size: int, wait: float, clock=time.monotonic):
        self.size = size
        self.wait = wait
        self.clock = clock
        self._items = deque()

    def __len__(self):
        return len(self._items)

    def add(self, item):
        self._items.append((self.clock(), item))

    def time_left(self) -> float | None:
        """Seconds until the batch in the buffer is due (None when the buffer is empty)."""
        if not self._items:
            return None
        if len(self._items) >= self.size:
            return 0.0
        return max(0.0, self._items[0][0] + self.wait - self.clock())

    def ready(self) -> bool:
        return self.time_left() == 0.0

    def take(self) -> list:
        return [self._items.popleft()[1] for _ in range(min(self.size, len(self._items)))]

    def drop(self, predicate):
        self._items = deque(entry for entry in self._items if not predicate(entry[1]))


def _succeeded(exc_info) -> bool:
    return exc_info is None or issubclass(exc_info[0], AlreadyHandled)


class BatchSubscription(FailureRouting, Entrypoint):
    """The entrypoint behind ``@subscribe_batch`` (see the module docstring)."""

    bus_publisher = BusPublisher()
    dynamic = True

    def __init__(self, bindings_from, partitions_from=None, batch_size=None, batch_wait_ms=None,
                 **kwargs):
        self.bindings_from = bindings_from
        self.partitions_from = partitions_from
        self.batch_size_override = batch_size
        self.batch_wait_ms_override = batch_wait_ms
        kwargs.setdefault("expected_exceptions", (AlreadyHandled,))
        super().__init__(**kwargs)

    def bindings(self, config) -> list[tuple[str, str]]:
        return list(self.bindings_from(config))

    def partitions(self, config) -> int:
        count = int(self.partitions_from(config)) if self.partitions_from else 1
        if count < 1:
            raise ValueError(f"partitions_from returned {count}; at least 1 partition is needed")
        return count

    def spec(self, service_name, method_name, config) -> topology.SubscriptionSpec:
        return topology.SubscriptionSpec(service_name, method_name,
                                         tuple(sorted(set(self.bindings(config)))), self.dynamic,
                                         self.partitions(config))

    @property
    def consumer_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def partition_of(self, event_id) -> int | None:
        """The partition an event of the batch in hand came from (None: not partitioned)."""
        return self._in_hand.get(event_id)

    def setup(self):
        config = self.container.config
        bus = {**config_module.BUS_DEFAULTS, **(config.get("bus") or {})}
        self.subscription = self.spec(self.container.service_name, self.method_name, config)
        self.batch_size = int(self.batch_size_override or bus["batch_size"])
        wait_ms = self.batch_wait_ms_override
        self.batch_wait = float(bus["batch_wait_ms"] if wait_ms is None else wait_ms) / 1000
        self.claim_seconds = float(bus["partition_claim_seconds"])
        self.retry_policy = retry.policy(bus)
        self.plan = (topology.plan(set(), [self.subscription], self.retry_policy.delay_queues_ms)
                     if bus.get("declare_topology", True) else None)
        extra = {"consumer": self.consumer_name}
        self._broker = logs.Repeating(log, f"{self.consumer_name}: broker connection", **extra)
        self._restart = retry.Backoff(RESTART_BASE, RESTART_MAX)
        self._waiting = None
        self._loop_errors = logs.Throttle(burst=1, window=300.0)
        refusals.install()
        self._stopping = threading.Event()
        self._consumer = None
        self._thread = None
        self._in_hand = {}

    def start(self):
        self._thread = self.container.spawn_managed_thread(
            self._run, identifier=f"{self.consumer_name} batch loop")

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.wait()

    def kill(self):
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.close(graceful=False)

    def _run(self):
        while not self._stopping.is_set():
            batcher = Batcher(self.batch_size, self.batch_wait)
            consumer = self._consumer = BatchConsumer(
                self.container.config["AMQP_URI"], self.subscription, self.batch_size,
                batcher.add, self.plan)
            graceful = False
            try:
                consumer.open()
                self._serve(consumer, batcher)
                graceful = True
            except topology.MissingPlugin as exc:
                log.error("%s", exc)
            except CONNECTION_ERRORS as exc:
                if not self._stopping.is_set():
                    self._broker.failed(exc, f"reconnecting in {self._wait():.1f} s")
            except Exception:
                if not self._stopping.is_set():
                    wait = self._wait()
                    quiet = self._loop_errors.admit("loop")
                    if quiet is not None:
                        log.exception("%s: the batch loop failed (%s more times since this was "
                                      "last said); restarting it in %.1f s",
                                      self.consumer_name, quiet, wait)
            finally:
                consumer.close(graceful)
                self._consumer = None
            if not self._stopping.is_set():
                self._stopping.wait(self._wait())
            self._waiting = None

    def _wait(self) -> float:
        """The wait before the next restart (capped exponential with jitter; ``_serve`` resets
        it once the loop has served ``STABLE_SECONDS``)."""
        if self._waiting is None:
            self._waiting = self._restart.next()
        return self._waiting

    def _serve(self, consumer, batcher):
        next_tick = 0.0
        opened, settled = time.monotonic(), False
        while not self._stopping.is_set():
            now = time.monotonic()
            if not settled and now - opened >= STABLE_SECONDS:
                settled = True               # serving again: restarts start from the base
                self._restart.reset()
                self._broker.succeeded()
            if consumer.partitioned and now >= next_tick:
                released = consumer.rebalance()
                if released:
                    batcher.drop(lambda delivery: delivery.partition in released)
                next_tick = now + self.claim_seconds * random.uniform(0.8, 1.2)
            if batcher.ready():
                self._handle(consumer, batcher.take())
                continue
            timeout = batcher.time_left()
            timeout = 0.5 if timeout is None else timeout
            if consumer.partitioned:
                timeout = min(timeout, max(0.0, next_tick - now))
            consumer.drain(max(0.001, min(timeout, 0.5)))
            consumer.heartbeat()

    def _handle(self, consumer, deliveries):
        readable = []
        for delivery in deliveries:
            delivery.attempt = retry.attempt_of(delivery.message.headers)
            try:
                delivery.body = decode(delivery.message)
                delivery.event = read_event(delivery.body)
            except UNREADABLE as exc:
                body = raw_body(delivery.message) if delivery.body is None else delivery.body
                self._settle(delivery, self.dead_letter(body, delivery.message, delivery.queue,
                                                        exc, "", delivery.attempt))
                continue
            readable.append(delivery)
        # events on a retry go alone, and before the batch: acks are cumulative per channel
        for delivery in [d for d in readable if d.attempt > 1]:
            if not self._one(consumer, delivery):
                return             # stopping: left unacknowledged, redelivered after the stop
        batch = [d for d in readable if d.attempt == 1]
        if not batch:
            return
        exc_info = self._attempt(consumer, batch)
        if exc_info is STOPPED:
            return
        if _succeeded(exc_info):
            consumer.ack(batch)
        elif len(batch) == 1:
            self._fail(batch[0], exc_info)
        else:
            log.warning("%s: batch of %s failed: %s; retrying one by one", self.consumer_name,
                        len(batch), logs.describe(exc_info[1]),
                        extra={"consumer": self.consumer_name})
            for delivery in batch:
                if self._stopping.is_set() or not self._one(consumer, delivery):
                    break          # left unacknowledged: redelivered after the stop

    def _one(self, consumer, delivery) -> bool:
        """Handle one delivery alone; False when the service stopped first."""
        exc_info = self._attempt(consumer, [delivery])
        if exc_info is STOPPED:
            return False
        if _succeeded(exc_info):
            delivery.message.ack()
        else:
            self._fail(delivery, exc_info)
        return True

    def _attempt(self, consumer, deliveries):
        """Run the handler on ``deliveries``; while it fails because the database is out of
        reach, hold them and run it again after a backoff (see the module docstring). Returns
        the last exc_info (None: success), or ``STOPPED``."""
        backoff, answered = retry.Backoff(HOLD_BASE, HOLD_MAX), 0
        while True:
            exc_info = self._work(consumer, deliveries)
            if _succeeded(exc_info) or not retry.outage(exc_info[1]):
                self._database.succeeded()
                return exc_info
            if self.database_answers():     # a deadlock, a dropped connection: a few tries
                answered += 1
                if answered > HOLD_TRIES or len(deliveries) == 1:
                    return exc_info             # alone, it takes the retry path
            wait = backoff.next()
            self._database.failed(exc_info[1], f"holding {len(deliveries)} event(s), "
                                               f"next try in {wait:.1f} s")
            if not self._pause(consumer, wait):
                return STOPPED

    def _pause(self, consumer, seconds) -> bool:
        """Wait ``seconds`` while keeping the broker connection alive (deliveries only join
        the buffer); False when the service stops first."""
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            consumer.drain(max(0.001, min(left, 0.5)))
            consumer.heartbeat()
        return False

    def _fail(self, delivery, exc_info):
        self._settle(delivery, self.route_failure(delivery.body, delivery.message, delivery.queue,
                                                  exc_info))

    @staticmethod
    def _settle(delivery, moved: bool):
        if moved:
            delivery.message.ack()
        else:
            delivery.message.requeue()

    def _work(self, consumer, deliveries):
        """Run the handler on ``deliveries`` in a nameko worker; its exc_info (None: success)."""
        done = Event()

        def handle_result(worker_ctx, result=None, exc_info=None):
            done.send(exc_info)
            return result, exc_info

        events = [delivery.event for delivery in deliveries]
        context_data = {"consumer": self.consumer_name}
        if len(events) == 1:
            context_data.update(correlation_id=events[0].correlation_id,
                                causation_id=events[0].id)
        self._in_hand = {delivery.event.id: delivery.partition for delivery in deliveries}
        try:
            self.container.spawn_worker(self, (events,), {}, context_data=context_data,
                                        handle_result=handle_result)
            while not done.ready():
                done.wait(timeout=1.0)
                if not done.ready():
                    self._keep_alive(consumer, done)
            return done.wait()
        finally:
            self._in_hand = {}

    @staticmethod
    def _keep_alive(consumer, done):
        """During a long batch: read heartbeats (deliveries only join the buffer). If the
        connection is gone, let the worker finish before the loop reconnects."""
        try:
            consumer.drain(0.01)
            consumer.heartbeat()
        except Exception:
            done.wait()
            raise


subscribe_batch = BatchSubscription.decorator
