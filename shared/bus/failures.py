"""Where a message goes when it cannot be handled: back to its own queue after a delay (through
the ``jiceng.delay.*`` queues), or to the queue's ``.dlq`` with the error. Used by ``@subscribe``
and ``@subscribe_batch`` alike; ``retry.decide`` holds the rule.

What it logs (an operator reads these):

* a retry: one WARNING line, ``consumer: event ID failed (attempt 2 of 6), retrying in 1.7 s:
  Type: message`` (the message cut), no traceback; at most ``RETRY_LINES`` such lines per
  consumer in ``RETRY_WINDOW`` seconds, the next one saying how many were left out;
* a dead letter: one ERROR line with the traceback (cut line by line), the only place a failed
  event's traceback is logged; the traceback also travels in the ``x-jiceng-traceback`` header.

A database outage (``retry.outage`` and the service's database does not answer a ping) uses up
no attempt: the message waits in a delay queue (the policy's caps in turn, the last one again
and again, counted in ``x-jiceng-outages``) and comes back with the same attempt number, so an
outage longer than the retries dead-letters nothing. It is logged as a repeating condition
(``shared.logs.Repeating``: a line when it starts, one per 30 s, one when it ends).
"""
import logging
from datetime import datetime, timezone

from shared import logs
from shared.bus import retry, topology
from shared.errors import InvalidInput

log = logging.getLogger(__name__)
RETRY_LINES, RETRY_WINDOW = 10, 30.0
OUTAGE_HEADER = "x-jiceng-outages"


class FailureRouting:
    """Mixin for an entrypoint with ``bus_publisher`` (a ``BusPublisher``), ``consumer_name`` and
    ``retry_policy`` (a ``retry.Policy``). ``message`` is a kombu message, ``body`` its decoded
    body (or the raw bytes when it could not be decoded), ``queue_name`` the queue it came from.

    Each method publishes with a broker confirm and returns True once the message is safely
    elsewhere (the caller then acks it) or False (the caller requeues it). Headers are copied, so
    the partition key travels with a retried message."""

    reports_own_failures = True    # nameko's own record of the worker's exception goes to DEBUG
    _throttle = None
    _outage = None

    @property
    def _database(self) -> logs.Repeating:
        """The log of this consumer's database outages."""
        if self._outage is None:
            self._outage = logs.Repeating(log, f"{self.consumer_name}: database",
                                          consumer=self.consumer_name)
        return self._outage

    def database_answers(self) -> bool:
        """Whether every database of the service's ``Store`` dependencies answers a ping."""
        for dependency in list(getattr(getattr(self, "container", None), "dependencies", ())):
            database = getattr(dependency, "database", None)
            if callable(getattr(database, "ping", None)):
                try:
                    database.ping()
                except Exception:
                    return False
        return True

    def route_failure(self, body, message, queue_name, exc_info) -> bool:
        """A handler failed on ``message``: retry it later, or dead-letter it after the last try."""
        error = exc_info[1]
        detail = logs.traceback_text(exc_info)
        attempt = retry.attempt_of(message.headers)
        policy = self.retry_policy
        if policy.attempts and retry.outage(error) and not self.database_answers():
            return self._wait_out(body, message, queue_name, error, detail, attempt)
        decision = retry.decide(attempt, policy, not isinstance(error, InvalidInput))
        if decision.action == "dead_letter":
            return self.dead_letter(body, message, queue_name, error, detail, attempt)
        self._say_retry(_event_id(body, message), attempt, policy.attempts + 1,
                        decision.delay_ms, error)
        return self._forward(body, message, queue_name, topology.delay_name(decision.queue_ms),
                             queue_name, decision.next_attempt, error, detail,
                             declare=(topology.delay_exchange(decision.queue_ms),
                                      topology.delay_queue(decision.queue_ms)),
                             properties={"expiration": decision.delay_ms / 1000})

    def _wait_out(self, body, message, queue_name, error, detail, attempt) -> bool:
        """The database is down: back to the queue after a delay, with the same attempt."""
        try:
            outages = max(0, int((message.headers or {}).get(OUTAGE_HEADER, 0))) + 1
        except (TypeError, ValueError):
            outages = 1
        policy = self.retry_policy
        cap = policy.caps_ms[min(outages, policy.attempts) - 1]
        delay_ms = max(1, round(retry.jittered(cap, policy.jitter)))
        self._database.failed(error, f"event {_event_id(body, message)} waits {delay_ms / 1000:.1f}"
                                     f" s (an outage uses up no retry)")
        return self._forward(body, message, queue_name, topology.delay_name(cap), queue_name,
                             attempt, error, detail,
                             declare=(topology.delay_exchange(cap), topology.delay_queue(cap)),
                             properties={"expiration": delay_ms / 1000},
                             more_headers={OUTAGE_HEADER: outages})

    def dead_letter(self, body, message, queue_name, error, detail, attempt) -> bool:
        """Move ``message`` to ``queue_name``'s DLQ; ``detail`` is the traceback ("" when the
        message could not be read at all: the reason says why)."""
        event_id = _event_id(body, message)
        log.error("%s: event %s dead-lettered after attempt %s: %s%s", self.consumer_name,
                  event_id, attempt, logs.describe(error), f"\n{detail}" if detail else "",
                  extra={"consumer": self.consumer_name, "event_id": event_id,
                         "attempt": attempt})
        dlq = topology.dead_letter_queue(queue_name)
        return self._forward(body, message, queue_name, "", dlq.name, attempt, error, detail,
                             declare=(dlq,))

    def _say_retry(self, event_id, attempt, attempts, delay_ms, error):
        if self._throttle is None:
            self._throttle = logs.Throttle(RETRY_LINES, RETRY_WINDOW)
        quiet = self._throttle.admit("retry")
        if quiet is None:
            return
        log.warning("%s: event %s failed (attempt %s of %s), retrying in %.1f s: %s%s",
                    self.consumer_name, event_id, attempt, attempts, delay_ms / 1000,
                    logs.describe(error),
                    f" ({quiet} more retries in the last {RETRY_WINDOW:.0f} s not logged)"
                    if quiet else "",
                    extra={"consumer": self.consumer_name, "event_id": event_id,
                           "attempt": attempt})

    def _forward(self, body, message, queue_name, exchange, routing_key, attempt, error, detail,
                 declare, properties=None, more_headers=None) -> bool:
        headers = dict(message.headers or {})
        headers.pop(OUTAGE_HEADER, None)
        headers.update(more_headers or {})
        headers.update({retry.ATTEMPT_HEADER: attempt,
                        "x-jiceng-queue": queue_name,
                        "x-jiceng-error": f"{type(error).__name__}: {error}"[:1000],
                        "x-jiceng-traceback": detail,
                        "x-jiceng-failed-at": datetime.now(timezone.utc).isoformat()})
        message_id = _event_id(body, message) or ""
        raw = isinstance(body, (bytes, bytearray))
        try:
            routed = self.bus_publisher.publisher.publish(
                exchange=exchange, routing_key=routing_key, body=body, message_id=message_id,
                headers=headers, declare=declare, properties=properties,
                content_type=(message.content_type or "application/octet-stream") if raw else None,
                content_encoding=message.content_encoding if raw else None)
        except Exception as exc:
            log.warning("%s: could not forward failed event %s (%s); requeueing it",
                        self.consumer_name, message_id, logs.describe(exc))
            return False
        if not routed:
            log.error("%s: forwarding to %s was unroutable; requeueing", self.consumer_name,
                      routing_key)
        return bool(routed)


def _event_id(body, message):
    return (message.properties.get("message_id")
            or (body.get("id") if isinstance(body, dict) else None) or None)
