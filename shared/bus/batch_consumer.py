"""The broker side of one ``@subscribe_batch`` in one process: one connection, one channel per
partition held (exclusive consumer, prefetch = batch size), presence on ``.members`` /
``.waiting``, and the partition balancing of ``shared.bus.partitions``. Not partitioned, it
consumes the one shared queue (not exclusive: every process reads it).

Only the batch loop's green thread touches it; deliveries are handed to ``on_delivery``.
"""
import logging
import os
import random
import socket
from dataclasses import dataclass

from amqp.exceptions import AccessRefused, NotFound
from kombu import Connection

from shared.bus import partitions as rules
from shared.bus import topology

log = logging.getLogger("shared.bus.batch")


@dataclass(eq=False)
class Delivery:
    partition: int | None
    queue: str
    channel: object
    message: object                # kombu message
    body: object = None            # decoded JSON, or the raw bytes when undecodable
    event: object = None           # the Envelope once read
    attempt: int = 1


class BatchConsumer:
    def __init__(self, amqp_uri, spec: topology.SubscriptionSpec, prefetch: int, on_delivery,
                 plan: topology.Plan | None = None, heartbeat: int = 60):
        self.amqp_uri = amqp_uri
        self.spec = spec
        self.name = spec.queue_name
        self.prefetch = prefetch
        self.on_delivery = on_delivery
        self.plan = plan
        self.heartbeat_seconds = heartbeat
        self.connection = None
        self.held: dict[int, object] = {}
        self._waiting_tag = None
        self._start = random.randrange(max(1, spec.partitions))
        self._missing_reported = set()

    @property
    def partitioned(self) -> bool:
        return self.spec.partitions > 1

    def open(self):
        label = (f"jiceng {self.spec.service}.{self.spec.method} "
                 f"pid {os.getpid()} on {socket.gethostname()}")
        self.connection = Connection(self.amqp_uri, heartbeat=self.heartbeat_seconds,
                                     transport_options={"client_properties": {
                                         "connection_name": label}})
        self.connection.ensure_connection(max_retries=1)
        if self.plan is not None:
            topology.declare(self.connection, self.plan)
        if not self.partitioned:
            self._consume(None, self.spec.queue_name, exclusive=False)
            return
        self.control = self.connection.channel()
        self.presence = self.connection.channel()
        for role in ("members", "waiting"):
            self._declare_presence(role)
        self.presence.basic_consume(f"{self.name}.members", no_ack=True, callback=_ignore)

    def rebalance(self) -> set[int]:
        """One balancing tick; returns the partitions given back (drop their deliveries)."""
        n = self.spec.partitions
        live = max(1, self._declare_presence("members").consumer_count)
        waiting = self._declare_presence("waiting").consumer_count
        others_waiting = waiting - (1 if self._waiting_tag else 0)
        before = sorted(self.held)
        decision = rules.step(n, live, len(self.held), others_waiting)
        released = set()
        if decision.release:
            partition = random.choice(before)
            self._close(self.held.pop(partition))
            released.add(partition)
        taken = 0
        for partition in rules.rotation(n, self._start):
            if taken >= decision.take:
                break
            if partition not in self.held and self._is_free(partition) and self._take(partition):
                taken += 1
        self._start = (self._start + 1) % n
        self._signal_waiting(rules.waiting(n, live, len(self.held)))
        if sorted(self.held) != before:
            log.info("%s: holding partitions %s of %s (live processes: %s)", self.name,
                     sorted(self.held), n, live)
        return released

    def drain(self, timeout: float):
        """Read from the broker for up to ``timeout`` seconds (returns after one delivery)."""
        try:
            self.connection.drain_events(timeout=timeout)
        except socket.timeout:
            pass

    def heartbeat(self):
        self.connection.heartbeat_check()

    def ack(self, deliveries):
        """Ack ``deliveries``, one multiple-ack per channel. Every earlier delivery of those
        channels must be settled already (the batch loop settles in delivery order)."""
        last = {}
        for delivery in deliveries:
            key, tag = id(delivery.channel), delivery.message.delivery_tag
            if key not in last or tag > last[key][0]:
                last[key] = (tag, delivery.channel)
        for tag, channel in last.values():
            channel.basic_ack(tag, multiple=True)

    def close(self, graceful=True):
        """Close (the broker requeues what was not acknowledged); after a failure, just let go."""
        connection, self.connection = self.connection, None
        held, self.held = list(self.held.values()), {}
        if connection is None:
            return
        try:
            if graceful:
                for channel in held:
                    channel.close()
                connection.close()
            else:
                connection.collect()
        except Exception:
            connection.collect()

    def _consume(self, partition, queue, exclusive) -> object:
        channel = self.connection.channel()

        def receive(raw):
            self.on_delivery(Delivery(partition, queue, channel, channel.message_to_python(raw)))

        try:
            channel.basic_qos(0, self.prefetch, False)
            channel.basic_consume(queue, callback=receive, exclusive=exclusive)
        except Exception:
            self._close(channel)
            raise
        return channel

    def _take(self, partition) -> bool:
        queue = topology.partition_queue_name(self.name, partition)
        try:
            self.held[partition] = self._consume(partition, queue, exclusive=True)
        except AccessRefused:
            log.debug("%s: another process took partition %s first", self.name, partition)
            return False
        return True

    def _is_free(self, partition) -> bool:
        queue = topology.partition_queue_name(self.name, partition)
        try:
            return self.control.queue_declare(queue, passive=True).consumer_count == 0
        except NotFound:
            if queue not in self._missing_reported:
                self._missing_reported.add(queue)
                log.error("%s: partition queue %s does not exist (run `jiceng topology`)",
                          self.name, queue)
            return False

    def _declare_presence(self, role):
        return self.control.queue_declare(f"{self.name}.{role}", durable=True, auto_delete=False)

    def _signal_waiting(self, starved: bool):
        if starved and not self._waiting_tag:
            self._waiting_tag = self.presence.basic_consume(f"{self.name}.waiting", no_ack=True,
                                                            callback=_ignore)
        elif not starved and self._waiting_tag:
            self.presence.basic_cancel(self._waiting_tag)
            self._waiting_tag = None

    @staticmethod
    def _close(channel):
        try:
            channel.close()
        except Exception:
            pass


def _ignore(message):
    pass
