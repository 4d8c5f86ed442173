"""Who may do what: roles, the permissions each grants, and organisation-unit scopes (pure).

Permissions are ``service.action`` names (``members.write``); a role grants names or patterns
(``*.read``: the reads of every service, a new one included; ``*``: everything), so a new
service's routes need no change here unless a role must get its writes.

A user holds one role within one organisation unit (their scope); ``county_admin`` and
``auditor`` are county-wide. A route names the permission it needs (``shared.api.Route``) and
where its unit is; ``allowed`` decides, ``covers`` answers "is this unit inside that scope".
Services receive the role, scope and permissions in the RPC context and repeat the checks only
they can make (a member's branch, a matter's village).
"""
from shared.api import Permissions, granted
from shared.scope import covers

ROLES: dict[str, frozenset] = {
    "county_admin": frozenset({"*"}),
    "township_staff": frozenset({"*.read", "members.write", "activities.write",
                                 "affairs.write", "tickets.write", "talent.write"}),
    "village_cadre": frozenset({"*.read", "members.write", "activities.write", "affairs.write",
                                "tickets.write"}),
    "supervisor": frozenset({"*.read", "affairs.supervise"}),
    "proxy_agent": frozenset({"org.read", "tickets.read", "tickets.write"}),
    "auditor": frozenset({"*.read", "audit.view", "members.view_resident_id", "stars.report"}),
}
COUNTY_WIDE = frozenset({"county_admin", "auditor"})


class Denied(Exception):
    """The caller may not do this; ``reason`` says why (shown to the caller)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def permissions_of(role: str, scopes=None) -> Permissions:
    """A role's permissions (names and patterns: ``*``, ``*.read``); an API client's
    ``scopes`` (permission names) narrow them to the scopes the role grants."""
    held = ROLES.get(role, frozenset())
    if scopes is None:
        return Permissions(held)
    return Permissions(scope for scope in scopes if granted(held, scope))


def check(caller, permission, unit_id, parent_of):
    """Raise ``Denied`` unless ``caller`` (dict: role, permissions, scope_unit_id) holds
    ``permission`` and its scope covers ``unit_id`` (when the route names a unit)."""
    if permission is None:
        return
    if not granted(caller["permissions"], permission):
        raise Denied(f"role {caller['role']} does not grant {permission}")
    if unit_id is not None and not covers(caller.get("scope_unit_id"), unit_id, parent_of):
        raise Denied(f"organisation unit {unit_id} is outside your scope "
                     f"(unit {caller.get('scope_unit_id')})")
