"""``Services``: call any installed service's RPC with the caller's context, bounded in time.

One reply queue per gateway process (nameko's RPC reply listener), shared by every request;
each call carries the context the services read: ``user``, ``role``, ``scope_unit_id``,
``permissions``, ``correlation_id`` (the HTTP request id, which the services' events carry on)
and, for writes, ``idempotency_key``."""
import eventlet
from nameko.exceptions import RpcTimeout
from nameko.rpc import RpcProxy, ServiceProxy

from shared.bus.requests import REQUEST_SCOPED
from shared.bus.rpc import _Context


class Caller:
    def __init__(self, worker_ctx, reply_listener, timeout):
        self._worker_ctx = worker_ctx
        self._reply_listener = reply_listener
        self._timeout = timeout

    def call(self, service: str, method: str, kwargs: dict, context: dict, timeout=None):
        proxy = ServiceProxy(_Context(self._worker_ctx, drop=REQUEST_SCOPED, add=context),
                             service, self._reply_listener)
        reply = getattr(proxy, method).call_async(**kwargs)
        limit = timeout or self._timeout
        try:
            with eventlet.Timeout(limit):
                return reply.result()
        except eventlet.Timeout:
            raise RpcTimeout(f"{service}.{method} gave no answer within {limit} s") from None


class Services(RpcProxy):
    """The dependency: ``self.services.call("members", "get_member", {...}, context)``."""

    def __init__(self, timeout=None):
        super().__init__("*")
        self.timeout = timeout

    def get_dependency(self, worker_ctx):
        timeout = self.timeout or float(
            self.container.config.get("bus", {}).get("rpc_timeout_seconds", 10))
        return Caller(worker_ctx, self.rpc_reply_listener, timeout)
