"""Names and declaration of everything the bus needs on the broker.

Declared at start-up by every service (from the registry of all installed services) and by
``jiceng topology`` at deploy time, so an event published before its consumer first runs waits in
the consumer's durable queue instead of being dropped.

Layout, per vhost:

* ``{source}.events``: topic exchange per publishing service (nameko's naming), routing key = type.
* ``evt-{source}-{type}--{service}.{method}``: durable queue per subscription (nameko's naming);
  a dynamic subscription (bindings read from config, e.g. the stars rulebook) has one queue
  ``evt-dynamic--{service}.{method}`` bound to every ``(source, type)`` it lists. So does a
  ``@subscribe_batch`` with one partition (the default).
* ``evt-...dlq``: its dead-letter queue, where a message lands after its last retry; operators
  inspect and replay it with ``jiceng dlq``.
* ``jiceng.delay.{ms}ms``: one fanout exchange + queue per retry delay. A failed message is
  published there with the routing key of its consumer queue; the queue's TTL expires it into the
  default exchange, which routes it back to that consumer queue.

A partitioned ``@subscribe_batch`` (N > 1 partitions), with ``name = evt-dynamic--{service}.{method}``:

* ``{name}``: an ``x-consistent-hash`` exchange (plugin ``rabbitmq_consistent_hash_exchange``)
  hashing the ``x-partition-key`` header, bound from each ``{source}.events`` with routing key =
  type, for every ``(source, type)`` the subscription lists;
* ``{name}.p0`` .. ``{name}.p{N-1}``: durable partition queues bound to it with weight ``PARTITION_WEIGHT``,
  each with its own ``{name}.p{i}.dlq``; retries route back to the same partition queue;
* ``{name}.members`` and ``{name}.waiting``: presence queues nobody publishes to. Every consuming
  process holds a consumer on ``.members`` (so its consumer count is the number of live
  processes) and, while it has less than its share of partitions, one on ``.waiting``.

Changing the number of partitions leaves the queues of the old layout in place (still bound, so
still filling): drain and delete them once the new layout is consuming.
"""
from dataclasses import dataclass, field

from kombu import Exchange, Queue, binding

from shared.contracts.envelope import PARTITION_HEADER

HASH_EXCHANGE_TYPE = "x-consistent-hash"
HASH_PLUGIN = "rabbitmq_consistent_hash_exchange"


class MissingPlugin(RuntimeError):
    """The broker lacks an exchange type the topology needs."""


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


# points of each partition queue on the consistent-hash ring: with one point each, ten townships
# fell 5/1/2/2 over four queues; with 50 they spread close to evenly
PARTITION_WEIGHT = "50"


def partition_queue_name(name: str, index: int) -> str:
    return f"{name}.p{index}"


def partition_exchange(name: str) -> Exchange:
    return Exchange(name, type=HASH_EXCHANGE_TYPE, durable=True, auto_delete=False,
                    arguments={"hash-header": PARTITION_HEADER})


def partition_queue(name: str, index: int) -> Queue:
    return Queue(partition_queue_name(name, index), exchange=partition_exchange(name),
                 routing_key=PARTITION_WEIGHT, durable=True, auto_delete=False)


def presence_queue(name: str, role: str) -> Queue:
    """``{name}.members`` or ``{name}.waiting`` (see the module docstring)."""
    return Queue(f"{name}.{role}", durable=True, auto_delete=False)


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
    """One subscription: the handler ``service.method``, the ``(source, type)`` pairs it hears
    and, for ``@subscribe_batch``, its number of partitions (1: one queue, bound directly)."""
    service: str
    method: str
    bindings: tuple[tuple[str, str], ...]
    dynamic: bool = False
    partitions: int = 1

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
    def queue_names(self) -> list[str]:
        """The queues its consumers read: the one queue, or one per partition."""
        if self.partitions > 1:
            return [partition_queue_name(self.queue_name, i) for i in range(self.partitions)]
        return [self.queue_name]

    @property
    def sources(self) -> set[str]:
        return {source for source, _ in self.bindings}


@dataclass
class Plan:
    exchanges: list = field(default_factory=list)
    exchange_bindings: list = field(default_factory=list)   # (destination, source, routing key)
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
        if spec.partitions > 1:
            _plan_partitions(result, spec)
            continue
        result.queues.append(consumer_queue(spec))
        result.queues.append(dead_letter_queue(spec.queue_name))
    result.queues += [delay_queue(ms) for ms in sorted(set(retry_delays_ms))]
    return result


def _plan_partitions(result: Plan, spec: SubscriptionSpec):
    exchange = partition_exchange(spec.queue_name)
    result.exchanges.append(exchange)
    result.exchange_bindings += [(exchange, events_exchange(source), event_type)
                                 for source, event_type in spec.bindings]
    for index in range(spec.partitions):
        result.queues.append(partition_queue(spec.queue_name, index))
        result.queues.append(dead_letter_queue(partition_queue_name(spec.queue_name, index)))
    result.queues += [presence_queue(spec.queue_name, role) for role in ("members", "waiting")]


def declare(connection, topology: Plan):
    channel = connection.channel()
    try:
        for exchange in topology.exchanges:
            _declare_exchange(channel, exchange)
        for destination, source, routing_key in topology.exchange_bindings:
            channel.exchange_bind(destination=destination.name, source=source.name,
                                  routing_key=routing_key)
        for queue in topology.queues:
            queue.bind(channel).declare()
    finally:
        try:
            channel.close()
        except Exception:
            pass


def _declare_exchange(channel, exchange):
    try:
        exchange.bind(channel).declare()
    except Exception as exc:
        if exchange.type == HASH_EXCHANGE_TYPE and "unknown exchange type" in str(exc):
            raise MissingPlugin(
                f"RabbitMQ has no exchange type {HASH_EXCHANGE_TYPE!r}, which the partitioned "
                f"subscription {exchange.name} needs: enable the plugin with "
                f"`rabbitmq-plugins enable {HASH_PLUGIN}` and start again") from exc
        raise
