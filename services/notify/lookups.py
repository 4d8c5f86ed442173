"""``Lookups``: the sender asks another service for a recipient's phone (a bounded RPC).

``self.lookup("tickets", "get_ticket", 7)`` calls ``tickets.get_ticket(7)`` and raises nameko's
``RpcTimeout`` after ``bus.rpc_timeout_seconds`` when the service does not answer (the delivery
then counts a failed attempt and is retried with backoff). Only the sender calls it, outside
any transaction. Which service and method come from the templates' recipient rules."""
import eventlet
from nameko.exceptions import RpcTimeout
from nameko.extensions import DependencyProvider
from nameko.rpc import ReplyListener, ServiceProxy

from shared.bus.guard import CALLER_KEYS
from shared.bus.requests import REQUEST_SCOPED
from shared.bus.rpc import _Context


class Lookups(DependencyProvider):
    rpc_reply_listener = ReplyListener()

    def get_dependency(self, worker_ctx):
        timeout = float(self.container.config.get("bus", {}).get("rpc_timeout_seconds", 10))
        listener = self.rpc_reply_listener

        def call(service: str, method: str, argument):
            proxy = ServiceProxy(_Context(worker_ctx, drop=REQUEST_SCOPED + CALLER_KEYS), service,
                                 listener)
            reply = getattr(proxy, method).call_async(argument)
            try:
                with eventlet.Timeout(timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise RpcTimeout(f"{service}.{method} gave no answer within {timeout} s") from None

        return call
