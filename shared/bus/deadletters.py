"""Operator tools for dead-letter queues: look without consuming, show one in full, replay, purge.

A dead letter is the failed message as it came (body bytes, content type, message id, headers)
plus the failure's headers: ``x-jiceng-error``, ``x-jiceng-traceback``, ``x-jiceng-attempt``,
``x-jiceng-queue`` and ``x-jiceng-failed-at``.

``replay`` moves messages from ``{queue}.dlq`` back into ``{queue}``: the same body bytes, content
type and encoding, message id (the event id) and original headers (the partition key, nameko's
context), without the failure's headers (so the attempt count starts again) and with
``x-jiceng-replayed`` counting replays. Each is published (with confirm) before it is acknowledged
in the DLQ, so a crash during a replay duplicates at worst (which the inbox absorbs) and never
loses. ``purge`` deletes a DLQ's messages for good.
"""
import base64
import json

from kombu import Connection

from shared.bus import retry, topology
from shared.bus.publisher import ConfirmingPublisher

FAILURE_PREFIX = "x-jiceng-"
REPLAYED_HEADER = "x-jiceng-replayed"
KEPT_PROPERTIES = ("correlation_id", "reply_to", "priority", "type", "app_id")


def _raw(message) -> bytes:
    body = message.body
    if isinstance(body, str):
        try:
            return body.encode(message.content_encoding or "utf-8")
        except LookupError:   # py-amqp hands over '' for an EMPTY body, even one sent "binary"
            return body.encode("utf-8")
    return bytes(body or b"")


def _decode(message):
    """The body as JSON when it is JSON, else as text, else as ``{"base64": ...}``."""
    raw = _raw(message)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}
    try:
        return json.loads(text)
    except ValueError:
        return text


def _held(amqp_uri, queue, visit):
    """Call ``visit(message)`` for the messages of ``queue``'s DLQ, in order, until it returns
    False or the queue has no more; every message stays in the queue."""
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        dlq = topology.dead_letter_queue(queue).bind(channel)
        held = []
        try:
            while True:
                message = dlq.get(no_ack=False)
                if message is None:
                    break
                held.append(message)
                if visit(message) is False:
                    break
        finally:
            for message in held:
                message.requeue()
            channel.close()


def summary(message) -> dict:
    headers = message.headers or {}
    return {"message_id": message.properties.get("message_id"),
            "attempt": headers.get(retry.ATTEMPT_HEADER),
            "error": headers.get("x-jiceng-error"),
            "failed_at": headers.get("x-jiceng-failed-at"),
            "body": _decode(message)}


def peek(amqp_uri: str, queue: str, limit: int = 100) -> list[dict]:
    """Up to ``limit`` dead letters with their error headers; they stay in the queue."""
    items = []

    def visit(message):
        items.append(summary(message))
        return len(items) < limit

    if limit > 0:
        _held(amqp_uri, queue, visit)
    return items


def show(amqp_uri: str, queue: str, position: int = 1) -> dict | None:
    """Dead letter number ``position`` (1 = the oldest) in full, or None when there are fewer:
    its properties, every header, the error, the traceback and the whole body. It stays in the
    queue."""
    if position < 1:
        raise ValueError("position must be 1 or more")
    found = {}

    def visit(message):
        found["seen"] = found.get("seen", 0) + 1
        if found["seen"] < position:
            return True
        headers = dict(message.headers or {})
        raw = _raw(message)
        found["letter"] = {
            "queue": queue, "position": position,
            "message_id": message.properties.get("message_id"),
            "content_type": message.content_type,
            "content_encoding": message.content_encoding,
            "properties": {k: v for k, v in message.properties.items()
                           if k not in ("application_headers", "message_id", "content_type",
                                        "content_encoding")},
            "attempt": headers.get(retry.ATTEMPT_HEADER),
            "error": headers.get("x-jiceng-error"),
            "failed_at": headers.get("x-jiceng-failed-at"),
            "traceback": headers.pop("x-jiceng-traceback", None) or None,
            "headers": headers,
            "body_bytes": len(raw),
            "body": _decode(message),
        }
        return False

    _held(amqp_uri, queue, visit)
    return found.get("letter")


def count(amqp_uri: str, queue: str) -> int:
    """How many messages wait in ``queue``'s DLQ (0 when it does not exist)."""
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        try:
            _, messages, _ = channel.queue_declare(topology.dead_letter_queue_name(queue),
                                                   passive=True)
            return messages
        except Exception:
            return 0
        finally:
            try:
                channel.close()
            except Exception:
                pass


def replay(amqp_uri: str, queue: str, limit: int | None = None) -> int:
    """Move up to ``limit`` dead letters (None: all that are there when the replay starts, not
    those that fail again meanwhile) back into ``queue``; returns how many."""
    moved = 0
    if limit is None:
        limit = count(amqp_uri, queue)
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        with Connection(amqp_uri) as connection:
            channel = connection.channel()
            dlq = topology.dead_letter_queue(queue).bind(channel)
            while moved < limit:
                message = dlq.get(no_ack=False)
                if message is None:
                    break
                headers = {k: v for k, v in (message.headers or {}).items()
                           if not k.startswith(FAILURE_PREFIX)}
                headers[REPLAYED_HEADER] = _replays(message.headers) + 1
                routed = publisher.publish(
                    exchange="", routing_key=queue, body=_raw(message),
                    message_id=message.properties.get("message_id") or "", headers=headers,
                    content_type=message.content_type or "application/octet-stream",
                    content_encoding=message.content_encoding,
                    properties={k: message.properties[k] for k in KEPT_PROPERTIES
                                if message.properties.get(k) is not None})
                if not routed:
                    message.requeue()
                    raise RuntimeError(f"queue {queue} does not exist; nothing replayed past "
                                       f"{moved} message(s)")
                message.ack()
                moved += 1
            channel.close()
    finally:
        publisher.close()
    return moved


def purge(amqp_uri: str, queue: str) -> int:
    """Delete every message of ``queue``'s DLQ (never of ``queue`` itself); returns how many."""
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        try:
            _, messages, _ = channel.queue_declare(topology.dead_letter_queue_name(queue),
                                                   passive=True)
        except Exception:
            return 0
        try:
            purged = channel.queue_purge(topology.dead_letter_queue_name(queue))
            return messages if purged is None else purged
        finally:
            channel.close()


def _replays(headers) -> int:
    value = (headers or {}).get(REPLAYED_HEADER, 0)
    if value is True:
        return 1
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0
