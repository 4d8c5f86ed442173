"""RPC with a deadline. nameko's ``RpcProxy`` waits forever for a stopped service; these don't.

Inside a service::

    members = BoundedRpc("members")          # timeout: bus.rpc_timeout_seconds
    ...
    self.members.get_member(member_id)       # raises RpcTimeout after the deadline

Outside (CLI, tests, gateway): ``with rpc_client(config) as cluster: cluster.members.health()``.

Idempotency keys (``shared.bus.requests``): a write RPC called with a key runs once for that key,
however often it is sent. Per call, from either side::

    idempotent(cluster.members, "9b2f...").record_activity(payload)
    idempotent(self.members, f"{key}/activity").record_activity(payload)

or for every call of a client: ``rpc_client(config, idempotency_key="9b2f...")``. A service's
own key (and its request's identity) is never passed on to the RPCs it makes.
"""
import eventlet
from nameko.exceptions import RpcTimeout
from nameko.rpc import RpcProxy, ServiceProxy
from nameko.standalone.rpc import ClusterRpcProxy

from shared.bus.guard import CALLER_KEYS
from shared.bus.requests import IDEMPOTENCY_KEY, REQUEST_SCOPED


class _Context:
    """A worker context with other context data (what an RPC proxy sends as headers)."""

    def __init__(self, worker_ctx, drop=(), add=None):
        self._worker_ctx = worker_ctx
        self._drop = tuple(drop)
        self._add = dict(add or {})

    @property
    def context_data(self):
        data = {k: v for k, v in self._worker_ctx.context_data.items() if k not in self._drop}
        data.update(self._add)
        return data

    def __getattr__(self, name):
        return getattr(self._worker_ctx, name)


class _BoundedService:
    def __init__(self, proxy, service_name, timeout):
        self._proxy = proxy
        self._service_name = service_name
        self._timeout = timeout

    def __getattr__(self, method_name):
        method = getattr(self._proxy, method_name)

        def call(*args, **kwargs):
            reply = method.call_async(*args, **kwargs)
            try:
                with eventlet.Timeout(self._timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise RpcTimeout(f"{self._service_name}.{method_name} gave no answer within "
                                 f"{self._timeout} s") from None

        return call


class BoundedRpc(RpcProxy):
    def __init__(self, target_service, timeout=None, **options):
        self.timeout = timeout
        super().__init__(target_service, **options)

    def get_dependency(self, worker_ctx):
        timeout = self.timeout or float(
            self.container.config.get("bus", {}).get("rpc_timeout_seconds", 10))
        proxy = ServiceProxy(_Context(worker_ctx, drop=REQUEST_SCOPED + CALLER_KEYS),
                             self.target_service,
                             self.rpc_reply_listener, **self.options)
        return _BoundedService(proxy, self.target_service, timeout)


def idempotent(service, key: str):
    """``service`` (``cluster.members`` of ``rpc_client``, or a ``BoundedRpc`` attribute) whose
    calls carry the idempotency key ``key``."""
    if isinstance(service, _BoundedService):
        return _BoundedService(idempotent(service._proxy, key), service._service_name,
                               service._timeout)
    if isinstance(service, ServiceProxy):
        context = _Context(service.worker_ctx, add={IDEMPOTENCY_KEY: key})
        return ServiceProxy(context, service.service_name, service.reply_listener,
                            **service.options)
    raise TypeError(f"cannot add an idempotency key to {service!r}")


def rpc_client(config, timeout=None, context_data=None, idempotency_key=None):
    timeout = timeout or float(config.get("bus", {}).get("rpc_timeout_seconds", 10))
    if idempotency_key is not None:
        context_data = {**(context_data or {}), IDEMPOTENCY_KEY: idempotency_key}
    return ClusterRpcProxy(config, timeout=timeout, context_data=context_data)
