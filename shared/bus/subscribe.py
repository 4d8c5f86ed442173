"""``@subscribe(source, event_type)``: the one way a service consumes events.

Compared with nameko's ``@event_handler`` it adds what a serious deployment needs:

* the envelope is parsed and the payload validated against the registered contract before the
  handler runs; the handler receives an ``Envelope`` whose ``data`` is the loaded payload;
* a handler that raises is retried after each delay in ``bus.retry_delays_ms`` and then moved to
  the queue's dead-letter queue with the error; a payload that breaks its contract goes there at
  once; nothing is ever silently dropped or requeued in a hot loop;
* ``AlreadyHandled`` (see ``shared.bus.inbox``) counts as success.

Handlers must be idempotent; the usual way is ``with self.store.handling(event) as session:``.
"""
import logging
import traceback
from datetime import datetime, timezone

from nameko.extensions import SharedExtension
from nameko.messaging import Consumer

from shared.bus import retry, topology
from shared.bus.inbox import AlreadyHandled
from shared.bus.publisher import ConfirmingPublisher
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from shared.errors import InvalidInput

log = logging.getLogger(__name__)


class BusPublisher(SharedExtension):
    """One confirming publisher per container, for the relay and for retries."""

    def setup(self):
        self.publisher = ConfirmingPublisher(self.container.config["AMQP_URI"])

    def stop(self):
        self.publisher.close()


class Subscription(Consumer):
    bus_publisher = BusPublisher()
    dynamic = False

    def __init__(self, source: str, event_type: str, **kwargs):
        self.source = source
        self.event_type = event_type
        kwargs.setdefault("expected_exceptions", (AlreadyHandled,))
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def bindings(self, config) -> list[tuple[str, str]]:
        """The ``(source, type)`` pairs this handler hears."""
        return [(self.source, self.event_type)]

    def spec(self, service_name, method_name, config) -> topology.SubscriptionSpec:
        return topology.SubscriptionSpec(service_name, method_name,
                                         tuple(sorted(set(self.bindings(config)))), self.dynamic)

    @property
    def consumer_name(self) -> str:
        return f"{self.container.service_name}.{self.method_name}"

    def setup(self):
        spec = self.spec(self.container.service_name, self.method_name, self.container.config)
        self.queue = topology.consumer_queue(spec)
        self.delays_ms = list(self.container.config.get("bus", {}).get("retry_delays_ms", []))
        super().setup()

    def handle_message(self, body, message):
        try:
            envelope = Envelope.from_wire(body)
            contract = registry.get(envelope.source, envelope.type)
            envelope = Envelope(**{**envelope.to_wire(), "data": contract.load(envelope.data)})
        except (InvalidInput, LookupError, TypeError) as exc:
            self._dead_letter(body, message, exc, "", retry.attempt_of(message.headers))
            return
        context_data = dict(self.unpack_message_headers(message))
        context_data.update(correlation_id=envelope.correlation_id, causation_id=envelope.id,
                            consumer=self.consumer_name)
        handle_result = lambda worker_ctx, result=None, exc_info=None: self._settle(  # noqa: E731
            body, message, worker_ctx, result, exc_info)
        try:
            self.container.spawn_worker(self, (envelope,), {}, context_data=context_data,
                                        handle_result=handle_result)
        except Exception:
            self.queue_consumer.requeue_message(message)

    def _settle(self, body, message, worker_ctx, result, exc_info):
        if exc_info is None or issubclass(exc_info[0], AlreadyHandled):
            self.queue_consumer.ack_message(message)
            return result, exc_info
        error = exc_info[1]
        detail = "".join(traceback.format_exception(*exc_info))[-4000:]
        attempt = retry.attempt_of(message.headers)
        retryable = not isinstance(error, InvalidInput)
        decision = retry.decide(attempt, self.delays_ms, retryable)
        if decision.action == "retry":
            log.warning("%s failed on attempt %s, retrying in %s ms: %r", self.consumer_name,
                        attempt, decision.delay_ms, error)
            self._forward(body, message, topology.delay_name(decision.delay_ms),
                          self.queue.name, decision.next_attempt, error, detail,
                          declare=(topology.delay_exchange(decision.delay_ms),
                                   topology.delay_queue(decision.delay_ms)))
        else:
            self._dead_letter(body, message, error, detail, attempt)
        return result, exc_info

    def _dead_letter(self, body, message, error, detail, attempt):
        log.error("%s: event %s dead-lettered after attempt %s: %r", self.consumer_name,
                  message.properties.get("message_id"), attempt, error)
        dlq = topology.dead_letter_queue(self.queue.name)
        self._forward(body, message, "", dlq.name, attempt, error, detail, declare=(dlq,))

    def _forward(self, body, message, exchange, routing_key, attempt, error, detail, declare):
        headers = dict(message.headers or {})
        headers.update({retry.ATTEMPT_HEADER: attempt,
                        "x-jiceng-queue": self.queue.name,
                        "x-jiceng-error": f"{type(error).__name__}: {error}"[:1000],
                        "x-jiceng-traceback": detail,
                        "x-jiceng-failed-at": datetime.now(timezone.utc).isoformat()})
        message_id = message.properties.get("message_id") or (body or {}).get("id") or ""
        try:
            routed = self.bus_publisher.publisher.publish(
                exchange=exchange, routing_key=routing_key, body=body, message_id=message_id,
                headers=headers, declare=declare)
        except Exception:
            log.exception("%s: could not forward a failed message; requeueing it", self.consumer_name)
            self.queue_consumer.requeue_message(message)
            return
        if not routed:
            log.error("%s: forwarding to %s was unroutable; requeueing", self.consumer_name, routing_key)
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


class DynamicSubscription(Subscription):
    """Hears every ``(source, type)`` that ``bindings_from(config)`` lists, on one queue.

    For consumers whose interest is configuration, not code: the stars service hears every event
    its rulebook scores, so a new service's event earns credit by a rulebook entry alone."""

    dynamic = True

    def __init__(self, bindings_from, **kwargs):
        self.bindings_from = bindings_from
        super().__init__(source=None, event_type=None, **kwargs)

    def bindings(self, config):
        return list(self.bindings_from(config))


subscribe = Subscription.decorator
subscribe_dynamic = DynamicSubscription.decorator
