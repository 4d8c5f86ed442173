"""Where a message goes when it cannot be handled: back to its own queue after a delay (through
the ``jiceng.delay.*`` queues), or to the queue's ``.dlq`` with the error. Used by ``@subscribe``
and ``@subscribe_batch`` alike; ``retry.decide`` holds the rule."""
import logging
import traceback
from datetime import datetime, timezone

from shared.bus import retry, topology
from shared.errors import InvalidInput

log = logging.getLogger(__name__)


class FailureRouting:
    """Mixin for an entrypoint with ``bus_publisher`` (a ``BusPublisher``), ``consumer_name`` and
    ``delays_ms``. ``message`` is a kombu message, ``body`` its decoded body (or the raw bytes
    when it could not be decoded), ``queue_name`` the queue it came from.

    Each method publishes with a broker confirm and returns True once the message is safely
    elsewhere (the caller then acks it) or False (the caller requeues it). Headers are copied, so
    the partition key travels with a retried message."""

    def route_failure(self, body, message, queue_name, exc_info) -> bool:
        """A handler failed on ``message``: retry it later, or dead-letter it after the last try."""
        error = exc_info[1]
        detail = "".join(traceback.format_exception(*exc_info))[-4000:]
        attempt = retry.attempt_of(message.headers)
        decision = retry.decide(attempt, self.delays_ms, not isinstance(error, InvalidInput))
        if decision.action == "dead_letter":
            return self.dead_letter(body, message, queue_name, error, detail, attempt)
        log.warning("%s failed on attempt %s, retrying in %s ms: %r", self.consumer_name,
                    attempt, decision.delay_ms, error)
        return self._forward(body, message, queue_name, topology.delay_name(decision.delay_ms),
                             queue_name, decision.next_attempt, error, detail,
                             declare=(topology.delay_exchange(decision.delay_ms),
                                      topology.delay_queue(decision.delay_ms)))

    def dead_letter(self, body, message, queue_name, error, detail, attempt) -> bool:
        log.error("%s: event %s dead-lettered after attempt %s: %r", self.consumer_name,
                  message.properties.get("message_id"), attempt, error)
        dlq = topology.dead_letter_queue(queue_name)
        return self._forward(body, message, queue_name, "", dlq.name, attempt, error, detail,
                             declare=(dlq,))

    def _forward(self, body, message, queue_name, exchange, routing_key, attempt, error, detail,
                 declare) -> bool:
        headers = dict(message.headers or {})
        headers.update({retry.ATTEMPT_HEADER: attempt,
                        "x-jiceng-queue": queue_name,
                        "x-jiceng-error": f"{type(error).__name__}: {error}"[:1000],
                        "x-jiceng-traceback": detail,
                        "x-jiceng-failed-at": datetime.now(timezone.utc).isoformat()})
        message_id = (message.properties.get("message_id")
                      or (body.get("id") if isinstance(body, dict) else None) or "")
        raw = isinstance(body, (bytes, bytearray))
        try:
            routed = self.bus_publisher.publisher.publish(
                exchange=exchange, routing_key=routing_key, body=body, message_id=message_id,
                headers=headers, declare=declare,
                content_type=(message.content_type or "application/octet-stream") if raw else None,
                content_encoding=message.content_encoding if raw else None)
        except Exception:
            log.exception("%s: could not forward a failed message; requeueing it",
                          self.consumer_name)
            return False
        if not routed:
            log.error("%s: forwarding to %s was unroutable; requeueing", self.consumer_name,
                      routing_key)
        return bool(routed)
