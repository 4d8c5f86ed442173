"""Publishing that knows whether the broker took the message.

Every publish waits for the broker's confirm and sets ``mandatory``, so ``publish`` returns only
once the message is safely queued (True) or known to have no queue to go to (False), and raises
on any connection or channel failure. Callers decide what an unroutable message means.
"""
import json
import threading

from kombu import Connection, Producer


class PublishFailed(Exception):
    pass


class ConfirmingPublisher:
    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self._connection = None
        self._producer = None
        self._returned = set()
        self._declared = set()
        self._lock = threading.Lock()

    def _ensure(self):
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True},
                                          heartbeat=0)
            self._connection.ensure_connection(max_retries=1)
            self._producer = Producer(self._connection.channel(), on_return=self._on_return)
            self._declared = set()
        return self._producer

    def _on_return(self, exception, exchange, routing_key, message):
        self._returned.add(message.properties.get("message_id"))

    def publish(self, *, exchange, routing_key: str, body: dict, message_id: str,
                headers: dict | None = None, declare=()) -> bool:
        """Publish ``body`` as persistent JSON; True when routed to at least one queue."""
        with self._lock:
            try:
                producer = self._ensure()
                for entity in declare:
                    key = (type(entity).__name__, entity.name)
                    if key not in self._declared:
                        entity.bind(producer.channel).declare()
                        self._declared.add(key)
                producer.publish(json.dumps(body, ensure_ascii=False), exchange=exchange,
                                 routing_key=routing_key, mandatory=True, delivery_mode=2,
                                 content_type="application/json", content_encoding="utf-8",
                                 message_id=message_id, headers=headers or {}, retry=False)
            except Exception as exc:
                self._reset()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
            if message_id in self._returned:
                self._returned.discard(message_id)
                return False
            return True

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
