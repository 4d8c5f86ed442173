"""Names and declaration of everything the bus needs on the broker.

Declared at start-up by every service (from the registry of all installed services) and by
``jiceng topology`` at deploy time, so an event published before its consumer first runs waits in
the consumer's durable queue instead of being dropped.

Layout, per vhost:

* ``{source}.events``: topic exchange per publishing service (nameko's naming), routing key = type.
* ``evt-{source}-{type}--{service}.{method}``: durable queue per subscription (nameko's naming);
  a dynamic subscription (bindings read from config, e.g. the stars rulebook) has one queue
  ``evt-dynamic--{service}.{method}`` bound to every ``(source, type)`` it lists.
* ``evt-...dlq``: its dead-letter queue, where a message lands after its last retry; operators
  inspect and replay it with ``jiceng dlq``.
* ``jiceng.delay.{ms}ms``: one fanout exchange + queue per retry delay. A failed message is
  published there with the routing key of its consumer queue; the queue's TTL expires it into the
  default exchange, which routes it back to that consumer queue.
"""
from dataclasses import dataclass, field

from kombu import Exchange, Queue, binding


def events_exchange_name(source: str) -> str:
    return f"{source}.events"


def consumer_queue_name(source: str, event_type: str, service: str, method: str) -> str:
    return f"evt-{source}-{event_type}--{service}.{method}"


def dead_letter_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dlq"


def delay_name(delay_ms: int) -> str:
    return f"jiceng.delay.{int(delay_ms)}ms"


def events_exchange(source: str) -> Exchange:
    return Exchange(events_exchange_name(source), type="topic", durable=True, auto_delete=False)


def dynamic_queue_name(service: str, method: str) -> str:
    return f"evt-dynamic--{service}.{method}"


def consumer_queue(spec: "SubscriptionSpec") -> Queue:
    return Queue(spec.queue_name, durable=True, auto_delete=False,
                 bindings=[binding(events_exchange(source), routing_key=event_type)
                           for source, event_type in spec.bindings])


def dead_letter_queue(queue_name: str) -> Queue:
    return Queue(dead_letter_queue_name(queue_name), durable=True, auto_delete=False)


def delay_exchange(delay_ms: int) -> Exchange:
    return Exchange(delay_name(delay_ms), type="fanout", durable=True, auto_delete=False)


def delay_queue(delay_ms: int) -> Queue:
    return Queue(delay_name(delay_ms), exchange=delay_exchange(delay_ms), durable=True,
                 auto_delete=False, queue_arguments={"x-message-ttl": int(delay_ms),
                                                     "x-dead-letter-exchange": ""})


@dataclass(frozen=True)
class SubscriptionSpec:
    """One consumer queue: the handler ``service.method`` and the ``(source, type)`` pairs it hears."""
    service: str
    method: str
    bindings: tuple[tuple[str, str], ...]
    dynamic: bool = False

    @classmethod
    def single(cls, service, method, source, event_type):
        return cls(service, method, ((source, event_type),))

    @property
    def queue_name(self) -> str:
        if self.dynamic:
            return dynamic_queue_name(self.service, self.method)
        (source, event_type), = self.bindings
        return consumer_queue_name(source, event_type, self.service, self.method)

    @property
    def sources(self) -> set[str]:
        return {source for source, _ in self.bindings}


@dataclass
class Plan:
    exchanges: list = field(default_factory=list)
    queues: list = field(default_factory=list)

    def names(self) -> dict:
        return {"exchanges": sorted(e.name for e in self.exchanges),
                "queues": sorted(q.name for q in self.queues)}


def plan(publishers, subscriptions, retry_delays_ms) -> Plan:
    """What to declare for these publishing services, subscriptions and retry delays (pure)."""
    result = Plan()
    sources = sorted(set(publishers).union(*(s.sources for s in subscriptions)))
    result.exchanges += [events_exchange(source) for source in sources]
    result.exchanges += [delay_exchange(ms) for ms in sorted(set(retry_delays_ms))]
    for spec in sorted(subscriptions, key=lambda s: s.queue_name):
        result.queues.append(consumer_queue(spec))
        result.queues.append(dead_letter_queue(spec.queue_name))
    result.queues += [delay_queue(ms) for ms in sorted(set(retry_delays_ms))]
    return result


def declare(connection, topology: Plan):
    channel = connection.channel()
    try:
        for exchange in topology.exchanges:
            exchange.bind(channel).declare()
        for queue in topology.queues:
            queue.bind(channel).declare()
    finally:
        channel.close()
