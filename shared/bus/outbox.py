"""The transactional outbox and its relay.

A service never publishes directly. It adds the event to ``bus_outbox`` inside the same
transaction as the data the event describes (``session.publish(type, data)``); the relay then
publishes committed rows with broker confirms and ``mandatory``, each with its partition key in the
``x-partition-key`` header (``shared.contracts.envelope.partition_key``), and marks them. A crash
anywhere loses nothing: an uncommitted transaction has no event, a committed one has a pending row
that the next relay pass publishes. The price is at-least-once delivery, which consumers absorb
with the inbox (``shared.bus.inbox``).
"""
import json
import logging
import threading
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared import logs
from shared.bus import retry, topology
from shared.bus.publisher import Outgoing, PublishFailed
from shared.contracts import registry
from shared.contracts.envelope import PARTITION_HEADER, Envelope, partition_key

log = logging.getLogger(__name__)

PENDING, PUBLISHED, UNROUTABLE = "pending", "published", "unroutable"


def now():
    return datetime.now(timezone.utc)


class BusSession(Session):
    """A SQLAlchemy session that can add events to its service's outbox.

    ``info`` carries ``outbox_table``, ``source`` and, when the session was opened while
    handling an event or an RPC, ``correlation_id`` and ``causation_id``.
    """

    def publish(self, event_type: str, data: dict) -> Envelope:
        """Validate ``data`` against the registered contract and add it to the outbox."""
        return self.publish_many([(event_type, data)])[0]

    def publish_many(self, events, validate="each") -> list[Envelope]:
        """``publish`` for several ``(event_type, data)`` pairs, in one statement (batch
        handlers publish hundreds of events per transaction). ``validate="first"`` checks the
        first payload of each type against its contract and takes the others as they are, which
        must then be plain JSON already: for payloads built by one function, where a mistake
        shows in the first (consumers validate every payload they receive, and dead-letter one
        that breaks its contract)."""
        source = self.info["source"]
        envelopes, checked = [], set()
        for event_type, data in events:
            contract = registry.get(source, event_type)
            check = validate == "each" or event_type not in checked
            checked.add(event_type)
            envelopes.append(Envelope(type=event_type, source=source, version=contract.version,
                                      data=contract.to_wire(data) if check else data,
                                      correlation_id=self.info.get("correlation_id"),
                                      causation_id=self.info.get("causation_id")))
        if envelopes:
            self.execute(self.info["outbox_table"].insert(), outbox_rows(envelopes))
            self.info["published"] = self.info.get("published", 0) + len(envelopes)
        return envelopes


def outbox_rows(data_source_envelopes):
    """Rows for a bulk insert of already-built envelopes (used by bulk loaders)."""
    return [dict(event_id=e.id, source=e.source, type=e.type,
                 body=json.dumps(e.to_wire(), ensure_ascii=False), created_at=now(),
                 status=PENDING, attempts=0) for e in data_source_envelopes]


def pending_count(session, outbox_table) -> int:
    return session.execute(select(func.count()).select_from(outbox_table)
                           .where(outbox_table.c.status == PENDING)).scalar_one()


class FirstTimes:
    """Remembers which keys were seen: ``first(keys)`` returns the ones never seen before."""

    def __init__(self):
        self.seen: set = set()
        self.lock = threading.Lock()

    def first(self, keys) -> set:
        with self.lock:
            fresh = set(keys) - self.seen
            self.seen |= fresh
        return fresh


# Events nobody subscribes to (yet) are normal: say so at INFO once per event type per process.
UNROUTABLE_REPORTED = FirstTimes()


def _log_unroutable(event_types):
    """Log the event types a batch published that no queue is bound for: at INFO the first
    time in this process, at DEBUG afterwards (a relay publishes such batches all day)."""
    if not event_types:
        return
    fresh = UNROUTABLE_REPORTED.first(event_types)
    if fresh:
        log.info("outbox relay: no subscriber is bound for %s (marked unroutable; said once per "
                 "event type, later ones at DEBUG)", ", ".join(sorted(fresh)))
    again = sorted(set(event_types) - fresh)
    if again:
        log.debug("outbox relay: no subscriber is bound for %s", ", ".join(again))


class Relay:
    """Publishes pending outbox rows of one database, oldest first.

    Several processes may relay the same PostgreSQL database: each batch is claimed with
    ``FOR UPDATE SKIP LOCKED``. On SQLite only one process may run a relay per file.
    """

    def __init__(self, database, outbox_table, publisher, batch_size=200, name="outbox relay"):
        self.database = database
        self.name = name                   # in its log lines: "stars: outbox relay"
        self.table = outbox_table
        self.publisher = publisher
        self.batch_size = batch_size
        self.wakeup = threading.Event()
        self.published = 0
        self.unroutable = 0

    def relay_once(self) -> int:
        """Publish one batch; returns how many rows were settled (0 when none were pending)."""
        table = self.table
        query = select(table.c.id, table.c.event_id, table.c.source, table.c.type, table.c.body) \
            .where(table.c.status == PENDING).order_by(table.c.id).limit(self.batch_size)
        if self.database.is_sqlite:
            with self.database.reading() as session:
                rows = session.execute(query).all()
            outcomes = self._publish(rows)
            with self.database.transaction() as session:
                self._mark(session, outcomes)
        else:
            with self.database.transaction() as session:
                rows = session.execute(query.with_for_update(skip_locked=True)).all()
                outcomes = self._publish(rows)
                self._mark(session, outcomes)
        failures = [error for _, status, error in outcomes if status is None]
        if failures:
            raise PublishFailed(failures[0])
        return len(outcomes)

    def _publish(self, rows):
        """Publish ``rows`` as one confirmed batch; (row id, status or None, error) each."""
        batch = []
        for row in rows:
            body = json.loads(row.body)
            batch.append(Outgoing(exchange=topology.events_exchange_name(row.source),
                                  routing_key=row.type, body=body, message_id=row.event_id,
                                  headers={PARTITION_HEADER: partition_key(body)},
                                  declare=(topology.events_exchange(row.source),)))
        try:
            results = self.publisher.publish_batch(batch)
        except PublishFailed as exc:
            log.debug("outbox relay: publishing a batch of %s failed, will retry: %s",
                      len(rows), logs.describe(exc))
            return [(row.id, None, str(exc)) for row in rows[:1]]
        outcomes = []
        for row, routed in zip(rows, results):
            if routed is None:
                outcomes.append((row.id, None, "nacked by the broker"))
            else:
                outcomes.append((row.id, PUBLISHED if routed else UNROUTABLE, None))
        _log_unroutable({f"{row.source}.{row.type}" for row, routed in zip(rows, results)
                         if routed is False})
        return outcomes

    def _mark(self, session, outcomes):
        table = self.table
        stamp = now()
        for status in (PUBLISHED, UNROUTABLE):
            ids = [row_id for row_id, outcome, _ in outcomes if outcome == status]
            if ids:
                session.execute(update(table).where(table.c.id.in_(ids)).values(
                    status=status, published_at=stamp, attempts=table.c.attempts + 1))
            if status == PUBLISHED:
                self.published += len(ids)
            else:
                self.unroutable += len(ids)
        for row_id, outcome, error in outcomes:
            if outcome is None:
                session.execute(update(table).where(table.c.id == row_id).values(
                    attempts=table.c.attempts + 1, last_error=error))

    def drain(self, max_batches=10_000) -> int:
        """Relay until nothing is pending; returns rows settled. Raises ``PublishFailed``."""
        total = 0
        for _ in range(max_batches):
            settled = self.relay_once()
            if not settled:
                break
            total += settled
        return total

    def run(self, stopping: threading.Event, poll_seconds: float, max_backoff: float = 10.0):
        """Loop until ``stopping`` is set: drain, then sleep until woken or ``poll_seconds``.
        After a failed pass (database or broker down) it waits longer each time (capped
        exponential with jitter, up to ``max_backoff``; a commit still wakes it), and logs the
        condition as it starts, while it lasts (once per 30 s) and when it ends, not per pass."""
        import eventlet
        backoff = retry.Backoff(base=poll_seconds, cap=max(poll_seconds, max_backoff))
        trouble = logs.Repeating(log, f"{self.name} pass")
        while not stopping.is_set():
            try:
                self.drain()
                trouble.succeeded()
                backoff.reset()
                wait = poll_seconds
            except Exception as exc:
                wait = backoff.next()
                trouble.failed(exc, f"next pass in {wait:.1f} s", with_traceback=not (
                    retry.outage(exc) or isinstance(exc, (PublishFailed, OSError))))
            self.wakeup.wait(wait)
            self.wakeup.clear()
            eventlet.sleep(0)
