"""A write RPC whose reply cannot be sent leaves its request to the broker instead of killing
the service. nameko lets the publisher's error out of the worker, which kills the container:
``make chaos`` saw members exit for good when its RabbitMQ node stopped mid-stream."""
from types import SimpleNamespace

import pytest
from kombu.exceptions import OperationalError

from shared.bus.requests import WriteRpc


class Consumer:
    def __init__(self, error=None):
        self.error = error
        self.requeued = []

    def handle_result(self, message, result, exc_info):
        if self.error is not None:
            raise self.error
        return result, exc_info

    def requeue_message(self, message):
        self.requeued.append(message)


def entrypoint(consumer):
    rpc = WriteRpc.__new__(WriteRpc)
    rpc.method_name = "record_activity"
    rpc.container = SimpleNamespace(service_name="members")
    rpc.__dict__["rpc_consumer"] = consumer
    return rpc


@pytest.mark.parametrize("error", [OperationalError("[Errno 111] ECONNREFUSED"),
                                   ConnectionResetError(104, "Connection reset by peer")])
def test_a_reply_the_broker_cannot_take_leaves_the_request_for_redelivery(error):
    consumer = Consumer(error)
    rpc = entrypoint(consumer)
    assert rpc.handle_result("message", None, {"id": 7}, None) == ({"id": 7}, None)
    assert consumer.requeued == ["message"]


def test_a_sent_reply_is_returned_as_nameko_returns_it():
    consumer = Consumer()
    assert entrypoint(consumer).handle_result("message", None, {"id": 7}, None) == ({"id": 7}, None)
    assert consumer.requeued == []


def test_other_errors_still_surface():
    with pytest.raises(ZeroDivisionError):
        entrypoint(Consumer(ZeroDivisionError())).handle_result("message", None, 1, None)
