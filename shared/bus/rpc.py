"""RPC with a deadline. nameko's ``RpcProxy`` waits forever for a stopped service; these don't.

Inside a service::

    members = BoundedRpc("members")          # timeout: bus.rpc_timeout_seconds
    ...
    self.members.get_member(member_id)       # raises RpcTimeout after the deadline

Outside (CLI, tests, gateway): ``with rpc_client(config) as cluster: cluster.members.health()``.
"""
import eventlet
from nameko.exceptions import RpcTimeout
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ClusterRpcProxy


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
        return _BoundedService(super().get_dependency(worker_ctx), self.target_service, timeout)


def rpc_client(config, timeout=None, context_data=None):
    timeout = timeout or float(config.get("bus", {}).get("rpc_timeout_seconds", 10))
    return ClusterRpcProxy(config, timeout=timeout, context_data=context_data)
