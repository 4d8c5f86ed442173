"""Operator tools for dead-letter queues: look without consuming, and replay.

``replay`` moves messages from ``{queue}.dlq`` back into ``{queue}`` with the attempt counter
reset, each one published (with confirm) before it is acknowledged in the DLQ, so a crash during a
replay duplicates at worst (which the inbox absorbs) and never loses.
"""
import json

from kombu import Connection

from shared.bus import retry, topology
from shared.bus.publisher import ConfirmingPublisher


def _decode(message):
    try:
        return json.loads(message.body)
    except (TypeError, ValueError):
        return message.body if isinstance(message.body, str) else repr(message.body)


def peek(amqp_uri: str, queue: str, limit: int = 100) -> list[dict]:
    """Up to ``limit`` dead letters with their error headers; they stay in the queue."""
    items = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        dlq = topology.dead_letter_queue(queue).bind(channel)
        held = []
        try:
            for _ in range(limit):
                message = dlq.get(no_ack=False)
                if message is None:
                    break
                held.append(message)
                headers = message.headers or {}
                items.append({"message_id": message.properties.get("message_id"),
                              "attempt": headers.get(retry.ATTEMPT_HEADER),
                              "error": headers.get("x-jiceng-error"),
                              "failed_at": headers.get("x-jiceng-failed-at"),
                              "body": _decode(message)})
        finally:
            for message in held:
                message.requeue()
            channel.close()
    return items


def replay(amqp_uri: str, queue: str, limit: int | None = None) -> int:
    moved = 0
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        with Connection(amqp_uri) as connection:
            channel = connection.channel()
            dlq = topology.dead_letter_queue(queue).bind(channel)
            while limit is None or moved < limit:
                message = dlq.get(no_ack=False)
                if message is None:
                    break
                headers = {k: v for k, v in (message.headers or {}).items()
                           if not k.startswith("x-jiceng-")}
                headers["x-jiceng-replayed"] = True
                routed = publisher.publish(exchange="", routing_key=queue, body=_decode(message),
                                           message_id=message.properties.get("message_id") or "",
                                           headers=headers)
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
