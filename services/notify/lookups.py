"""``Lookups``: the sender asks another service for a recipient's phone (a bounded RPC).

``self.lookup("tickets", "get_ticket", 7)`` calls ``tickets.get_ticket(7)`` and raises nameko's
``RpcTimeout`` after ``bus.rpc_timeout_seconds`` when the service does not answer (the delivery
then counts a failed attempt and is retried with backoff). Only the sender calls it, outside
any transaction. Which service and method come from the templates' recipient rules."""
import eventlet
from nameko.exceptions import RpcTimeout
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from shared.bus.requests import REQUEST_SCOPED


class _Context:
    """The worker's context without request-scoped keys (an idempotency key is never passed
    on)."""

    def __init__(self, worker_ctx):
        self._worker_ctx = worker_ctx

    @property
    def context_data(self):
        return {k: v for k, v in self._worker_ctx.context_data.items() if k not in REQUEST_SCOPED}

    def __getattr__(self, name):
        return getattr(self._worker_ctx, name)


class Lookups(DependencyProvider):
    rpc_reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx):
        timeout = float(self.container.config.get("bus", {}).get("rpc_timeout_seconds", 10))
        listener = self.rpc_reply_listener

        def call(service: str, method: str, argument):
            proxy = ServiceProxy(_Context(worker_ctx), service, listener)
            reply = getattr(proxy, method).call_async(argument)
            try:
                with eventlet.Timeout(timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise RpcTimeout(f"{service}.{method} gave no answer within {timeout} s") from None

        return call
