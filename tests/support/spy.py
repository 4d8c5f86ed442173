import json
import time

from kombu import Connection, Exchange, Queue

from shared.bus import topology
from shared.bus.publisher import ConfirmingPublisher
from shared.contracts.envelope import PARTITION_HEADER, partition_key


class EventSpy:
    """A private queue bound to one or more ``{source}.events`` exchanges, for asserting on events."""

    def __init__(self, amqp_uri, *sources, name="spy"):
        self.connection = Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = Queue(name, durable=False, auto_delete=False).bind(self.channel)
        self.queue.declare()
        for source in sources:
            exchange = Exchange(f"{source}.events", type="topic", durable=True)
            exchange.bind(self.channel).declare()
            self.queue.bind_to(exchange=exchange.name, routing_key="#")
        self.seen = []

    def drain(self):
        while True:
            message = self.queue.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append(json.loads(message.body))

    def wait_for(self, event_type, count=1, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.drain() if e["type"] == event_type]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"saw {[e['type'] for e in self.seen]}, not {count} x {event_type}")

    def close(self):
        try:
            self.queue.delete()
        finally:
            self.connection.release()


def publish_raw(config, body, message_id):
    """Publish an envelope as-is (duplicates, broken payloads), bypassing the outbox; with its
    partition key, as the relay would."""
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    try:
        return publisher.publish(exchange=topology.events_exchange_name(body.get("source", "probe")),
                                 routing_key=body.get("type", "probe_sent"), body=body,
                                 message_id=message_id,
                                 headers={PARTITION_HEADER: partition_key(body)})
    finally:
        publisher.close()
