"""A service checks the permission the gateway says its caller has, so a check the gateway forgot
is not a hole.

The gateway calls RPCs with the caller in the context (``role``, ``permissions``, ``user``,
``scope_unit_id``). For such a call (one with a ``role``), an RPC that the service publishes
over HTTP (``shared.api.Route``) needs one of the permissions its routes name (a public route
needs none); an RPC the service does not publish over HTTP is refused. Calls without a ``role``
come from inside (other services, the CLI, scripts) and are not checked here. ``health`` is
always answered. A service's own calls to others (``BoundedRpc``) do not pass its caller on:
what it asks of another service, it asks for itself.
"""
from shared.api import granted, routes_of

ALWAYS = frozenset({"health"})
CALLER_KEYS = ("user", "role", "scope_unit_id", "permissions")   # set by the gateway only


def refusal(service_cls, method_name: str, context: dict) -> str | None:
    """Why this call is refused, or None when it may run."""
    if "role" not in context or method_name in ALWAYS:
        return None
    needed = {route.permission for route in routes_of(service_cls) if route.rpc == method_name}
    if not needed:
        return f"{method_name} is not published over HTTP"
    if None in needed:
        return None
    held = context.get("permissions") or ()
    if any(granted(held, permission) for permission in needed):
        return None
    return (f"role {context.get('role')} does not grant "
            f"{' or '.join(sorted(needed))} (needed by {method_name})")
