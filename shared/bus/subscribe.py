"""``@subscribe(source, event_type)``: the one way a service consumes events.

Compared with nameko's ``@event_handler`` it adds what a serious deployment needs:

* the envelope is parsed and the payload validated against the registered contract before the
  handler runs; the handler receives an ``Envelope`` whose ``data`` is the loaded payload;
* a handler that raises is retried with capped exponential backoff and jitter (``bus.retry``,
  see ``shared.bus.retry``) and then moved to the queue's dead-letter queue with the error; a
  payload that breaks its contract goes there at once, and so does a body that cannot be read at
  all (not UTF-8 JSON, a content type other than JSON, no envelope), with the reason, where
  nameko (kombu's ``ConsumerMixin``) would acknowledge and drop it; nothing is ever silently
  dropped or requeued in a hot loop;
* ``AlreadyHandled`` (see ``shared.bus.inbox``) counts as success, logged as one INFO line;
* a retry is one WARNING line and a dead letter one ERROR line with the traceback
  (``shared.bus.failures``); nameko's own record of the exception is kept to DEBUG.

Handlers must be idempotent; the usual way is ``with self.store.handling(event) as session:``.

For high rates, ``@subscribe_batch`` (``shared.bus.batch``) hands a handler a list of events at
a time, with one transaction and a bulk inbox claim per batch, optionally partitioned by township
over several processes::

    @subscribe_batch(bindings_from=lambda config: [("members", "activity_recorded")],
                     partitions_from=lambda config: 8)
    def on_events(self, events):
        with self.store.handling_batch(events) as (session, fresh):
            ...
"""
import dataclasses
import json
import logging
from functools import partial

from nameko.extensions import SharedExtension
from nameko.messaging import Consumer, QueueConsumer

from shared import logs
from shared.bus import refusals, retry, topology
from shared.bus.failures import FailureRouting
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


def read_event(body) -> Envelope:
    """The envelope of a message body with its payload loaded by its contract. Raises
    ``InvalidInput`` (not an envelope, payload breaks the contract) or ``LookupError``
    (unknown contract): such a message is dead-lettered at once."""
    envelope = Envelope.from_wire(body)
    contract = registry.get(envelope.source, envelope.type)
    return dataclasses.replace(envelope, data=contract.load(envelope.data))


UNREADABLE = (InvalidInput, LookupError, TypeError)


def decode(message):
    """The JSON body of a kombu message; ``InvalidInput`` when it is not UTF-8 JSON."""
    if message.content_type not in (None, "", "application/json"):
        raise InvalidInput(f"content type {message.content_type!r} is not application/json")
    body = message.body
    try:
        return json.loads(body if isinstance(body, str) else bytes(body).decode("utf-8"))
    except ValueError as exc:
        raise InvalidInput(f"body is not UTF-8 JSON: {type(exc).__name__}: {exc}") from None


def raw_body(message) -> bytes:
    """A message's body as the bytes that were sent (py-amqp hands over text when the body
    decoded with its ``content_encoding``)."""
    body = message.body
    if isinstance(body, str):
        try:
            return body.encode(message.content_encoding or "utf-8")
        except LookupError:     # py-amqp hands over '' for an EMPTY body sent as "binary"
            return body.encode("utf-8")
    return bytes(body or b"")


class BusQueueConsumer(QueueConsumer):
    """nameko's ``QueueConsumer`` for ``@subscribe``, except for a message kombu cannot decode
    (a body that is not JSON, a content type nameko does not accept): kombu's ``ConsumerMixin``
    acknowledges such a message and drops it with one log line; this one hands it to its
    subscription, which dead-letters it with the reason."""

    def on_decode_error(self, message, exc):
        provider = self._provider_of(message)
        if provider is None:
            log.error("a message that cannot be decoded came from no known consumer "
                      "(consumer tag %s, %s bytes); dropped: %s",
                      message.delivery_info.get("consumer_tag"), len(message.body or b""),
                      logs.describe(exc))
            return super().on_decode_error(message, exc)
        self.container.spawn_managed_thread(
            partial(provider.handle_undecodable, message, exc),
            identifier=f"{type(provider).__name__}.handle_undecodable")

    def _provider_of(self, message):
        tag = message.delivery_info.get("consumer_tag")
        for provider, consumer in list(self._consumers.items()):
            if tag in getattr(consumer, "_active_tags", {}).values():
                return provider if hasattr(provider, "handle_undecodable") else None
        return None


class Subscription(FailureRouting, Consumer):
    bus_publisher = BusPublisher()
    queue_consumer = BusQueueConsumer()
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
        self.retry_policy = retry.policy(self.container.config.get("bus"))
        refusals.install()
        super().setup()

    def handle_message(self, body, message):
        try:
            envelope = read_event(body)
        except UNREADABLE as exc:
            moved = self.dead_letter(body, message, self.queue.name, exc, "",
                                     retry.attempt_of(message.headers))
            self._finish(message, moved)
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

    def handle_undecodable(self, message, exc):
        """kombu could not decode ``message``: dead-letter it as it came, with the reason."""
        try:
            decode(message)
            reason = exc
        except InvalidInput as ours:
            reason = ours
        moved = self.dead_letter(raw_body(message), message, self.queue.name, reason, "",
                                 retry.attempt_of(message.headers))
        self._finish(message, moved)

    def _settle(self, body, message, worker_ctx, result, exc_info):
        if exc_info is None or not retry.outage(exc_info[1]):
            self._database.succeeded()      # says "recovered" after an outage, else nothing
        if exc_info is None or issubclass(exc_info[0], AlreadyHandled):
            if exc_info is not None:
                log.info("%s: event %s already handled; acknowledged", self.consumer_name,
                         message.properties.get("message_id"),
                         extra={"consumer": self.consumer_name,
                                "event_id": message.properties.get("message_id")})
            self.queue_consumer.ack_message(message)
        else:
            self._finish(message, self.route_failure(body, message, self.queue.name, exc_info))
        return result, exc_info

    def _finish(self, message, moved: bool):
        if moved:
            self.queue_consumer.ack_message(message)
        else:
            self.queue_consumer.requeue_message(message)


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
