"""Who is calling, from the RPC context the gateway sets (``user``, ``permissions``)."""
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from shared.api import Permissions
from shared.errors import Forbidden


@dataclass(frozen=True)
class Who:
    user: str | None
    permissions: Permissions | None    # None: not a gateway call (another service, a script)

    def require(self, permission: str):
        """The gateway checked the route's permission already; this repeats it, so a route
        declared without it is not a hole. Patterns count (a county administrator's ``*``)."""
        if self.permissions is not None and permission not in self.permissions:
            raise Forbidden(f"this needs the permission {permission}")


class Caller(DependencyProvider):
    def get_dependency(self, worker_ctx):
        data = worker_ctx.context_data
        permissions = data.get("permissions")
        user = data.get("user")
        return Who(user=str(user)[:100] if user is not None else None,
                   permissions=None if permissions is None else Permissions(permissions))
