"""Publishing that knows whether the broker took each message.

The channel is in confirm mode and every message is ``mandatory``. ``publish_batch`` sends a whole
batch, then waits once for the broker's confirms of all of it (per-message confirms cap a
publisher at about a thousand messages a second; batch confirms do not). For each message it
returns True (queued), False (returned: no queue is bound for it) or None (the broker nacked it;
try again later). Connection and channel failures raise ``PublishFailed`` and drop the connection;
the next call reconnects.
"""
import json
from contextlib import contextmanager
import socket
import threading
import time
from dataclasses import dataclass, field

from kombu import Connection, Producer


class PublishFailed(Exception):
    pass


@dataclass
class Outgoing:
    """``body`` is sent as JSON, or as-is when it is bytes (a message forwarded undecoded)."""
    exchange: str
    routing_key: str
    body: dict | bytes
    message_id: str
    headers: dict = field(default_factory=dict)
    declare: tuple = ()
    content_type: str | None = None
    content_encoding: str | None = None     # of a bytes body ("binary" when not given)
    properties: dict = field(default_factory=dict)   # others: correlation_id, priority, ...


@contextmanager
def _coalesced_writes(connection, flush_at=1 << 20):
    """Gather the frames of a batch of publishes and send them in few writes (py-amqp sends
    every message with its own ``sendall``: one system call and one green-thread switch each,
    which cost as much as the rest of publishing)."""
    transport = getattr(getattr(connection, "connection", None), "transport", None)
    send = getattr(transport, "_write", None)
    if send is None:
        yield
        return
    chunks, size = [], 0

    def gather(data):
        nonlocal size
        chunks.append(bytes(data))  # py-amqp reuses its frame buffer: copy
        size += len(data)
        if size >= flush_at:
            flush()

    def flush():
        nonlocal size
        if chunks:
            joined = b"".join(chunks)
            chunks.clear()
            size = 0
            send(joined)

    transport._write = gather
    try:
        yield
        flush()
    finally:
        transport._write = send


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str, confirm_timeout: float = 30.0):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._lock = threading.Lock()
        self._connection = None
        self._producer = None

    def _ensure(self):
        if self._producer is None:
            connection = Connection(self.amqp_uri, heartbeat=0)
            connection.ensure_connection(max_retries=1)
            channel = connection.channel()
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            self._connection = connection
            self._producer = Producer(channel, on_return=self._on_return)
            self._reset_tracking()
        return self._producer

    def _reset_tracking(self):
        """Delivery tags restart at 1 on every new confirm-mode channel."""
        self._sent = 0
        self._ack_floor = 0
        self._acked, self._nacked, self._returned = set(), set(), set()
        self._declared = set()

    def _on_ack(self, delivery_tag, multiple=False):
        if multiple:
            self._ack_floor = max(self._ack_floor, delivery_tag)
        else:
            self._acked.add(delivery_tag)

    def _on_nack(self, delivery_tag, multiple=False, requeue=False):
        """A multiple nack covers only the tags not confirmed yet, not those already acked."""
        first = self._ack_floor + 1 if multiple else delivery_tag
        self._nacked.update(tag for tag in range(first, delivery_tag + 1) if tag not in self._acked)
        if multiple:
            self._ack_floor = max(self._ack_floor, delivery_tag)

    def _on_return(self, exception, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id"))

    def _settled(self, tag):
        return tag <= self._ack_floor or tag in self._acked or tag in self._nacked

    def publish_batch(self, messages: list[Outgoing]) -> list[bool | None]:
        if not messages:
            return []
        with self._lock:
            try:
                producer = self._ensure()
                tags = []
                for message in messages:  # declarations wait for replies: before gathering
                    self._declare(producer.channel, message.declare)
                with _coalesced_writes(self._connection):
                    self._send(producer, messages, tags)
                self._wait_for(tags)
                outcomes = []
                for message, tag in zip(messages, tags):
                    if tag in self._nacked:
                        outcomes.append(None)
                    else:
                        outcomes.append(message.message_id not in self._returned)
                    self._acked.discard(tag)
                    self._nacked.discard(tag)
                    self._returned.discard(message.message_id)
                return outcomes
            except PublishFailed:
                self._reset()
                raise
            except Exception as exc:
                self._reset()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    def _send(self, producer, messages, tags):
        for message in messages:
            raw = isinstance(message.body, (bytes, bytearray))
            producer.publish(bytes(message.body) if raw else
                             json.dumps(message.body, ensure_ascii=False),
                             exchange=message.exchange, routing_key=message.routing_key,
                             mandatory=True, delivery_mode=2,
                             content_type=message.content_type or "application/json",
                             content_encoding=(message.content_encoding or "binary")
                             if raw else "utf-8",
                             message_id=message.message_id, headers=message.headers or {},
                             retry=False, **message.properties)
            self._sent += 1
            tags.append(self._sent)

    def publish(self, *, exchange, routing_key: str, body: dict | bytes, message_id: str,
                headers: dict | None = None, declare=(), content_type=None,
                content_encoding=None, properties=None) -> bool:
        """One message; True when routed. A nack raises ``PublishFailed``."""
        [outcome] = self.publish_batch([Outgoing(exchange, routing_key, body, message_id,
                                                 headers or {}, tuple(declare), content_type,
                                                 content_encoding, dict(properties or {}))])
        if outcome is None:
            raise PublishFailed(f"broker refused message {message_id}")
        return outcome

    def _declare(self, channel, entities):
        for entity in entities:
            key = (type(entity).__name__, entity.name)
            if key not in self._declared:
                entity.bind(channel).declare()
                self._declared.add(key)

    def _wait_for(self, tags):
        deadline = time.monotonic() + self.confirm_timeout
        while not all(self._settled(tag) for tag in tags):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishFailed(f"no confirm from the broker within {self.confirm_timeout} s")
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except socket.timeout:
                continue

    def _reset(self):
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:
                pass

    def close(self):
        with self._lock:
            self._reset()
