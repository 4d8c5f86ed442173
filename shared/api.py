"""How a service publishes its RPCs over HTTP: a table of ``Route`` on the service class.

The gateway builds its REST API (``/api/v1/...``), its OpenAPI document and its permission
checks from the ``api`` attribute of every installed service, so a new service is reachable
over HTTP by declaring its routes, without a change to the gateway::

    class MembersService(ServiceBase):
        api = (
            Route("GET", "/members/<int:member_id>", "get_member", "One member",
                  permission="members.read"),
            Route("POST", "/members", "register_member", "Register a member",
                  body=schemas.MemberInput, permission="members.write",
                  unit="body:branch_id"),
            Route("GET", "/branches/<int:branch_id>/members", "list_members", "Members of a branch",
                  query={"state": fields.String()}, paged=True, permission="members.read",
                  unit="path:branch_id"),
        )

Contract of a route (the gateway keeps it):

* ``path`` is a werkzeug rule under ``/api/v1``; its variables are passed to the RPC by name.
* ``query``: marshmallow fields (or a Schema class) of the query string, validated by the
  gateway (400 naming the parameter) and passed by name. ``paged`` adds ``offset`` (default 0)
  and ``limit`` (1 to 1000, default 50), passed to the RPC, which must accept them; the gateway
  answers ``{"items": [...], "offset": o, "limit": l, "next_offset": o + l or null}``.
* ``body``: the Schema of the JSON body, validated by the gateway (400 naming each field) and
  passed unchanged as the RPC's ``body_arg`` (default ``payload``); the service validates again.
* ``permission``: what the caller's role must grant (see the gateway's ``roles``); ``None``
  makes the route public (no login). ``unit`` names where the organisation unit the request acts
  on is found (``path:NAME``, ``query:NAME`` or ``body:NAME``): the gateway refuses a caller
  whose scope does not cover it. ``owner`` names a method of the service that finds the unit
  of the object a by-id route acts on (``unit_of_ticket(ticket_id)``). Services receive the
  caller (``user``, ``role``, ``scope_unit_id``, ``permissions``) in the RPC context and check
  both again themselves (``shared.scope``): a write route with neither is refused to a caller
  bound to one unit.
* ``body_arg=None`` passes the body's fields as keyword arguments instead of one ``payload``.
* ``caller_arg``: an RPC argument the gateway fills with the caller's name (``recorded_by``,
  ``closed_by``): who did it comes from the login, never from the request.
* ``status``: the HTTP status of a success (201 for a create).
* ``timeout_seconds``: how long the gateway waits for the RPC's answer (default: the bus's
  ``rpc_timeout_seconds``); for the few calls that do much at once, such as a sheet import.
"""
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNIT_SOURCES = ("path", "query", "body")


@dataclass(frozen=True, eq=False)
class Route:
    method: str
    path: str
    rpc: str
    summary: str
    body: type | None = None
    query: dict | type | None = None
    permission: str | None = ""
    unit: str | None = None
    owner: str | None = None
    paged: bool = False
    status: int = 200
    body_arg: str | None = "payload"
    caller_arg: str | None = None
    tags: tuple = field(default=())
    timeout_seconds: float | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"route {self.path}: method {self.method!r} is not one of {METHODS}")
        if not self.path.startswith("/"):
            raise ValueError(f"route {self.path}: a path starts with /")
        if self.permission == "":
            raise ValueError(f"route {self.method} {self.path}: say which permission it needs "
                             "(permission=None for a public route)")
        if self.unit is not None:
            source, _, name = self.unit.partition(":")
            if source not in UNIT_SOURCES or not name:
                raise ValueError(f"route {self.path}: unit is 'path:NAME', 'query:NAME' or "
                                 f"'body:NAME', not {self.unit!r}")
        if self.unit is not None and self.owner is not None:
            raise ValueError(f"route {self.path}: give unit or owner, not both")
        if self.timeout_seconds is not None and not 0 < self.timeout_seconds <= 600:
            raise ValueError(f"route {self.path}: timeout_seconds is from 0 to 600")
        if self.body is not None and self.method == "GET":
            raise ValueError(f"route {self.path}: a GET has no body")

    @property
    def writes(self) -> bool:
        return self.method != "GET"


def routes_of(cls) -> tuple[Route, ...]:
    """The HTTP routes a service class declares (none: not reachable over HTTP)."""
    return tuple(getattr(cls, "api", ()))


def granted(held, permission: str) -> bool:
    """Whether the permissions ``held`` (names or patterns: ``*`` is everything, ``*.read``
    every service's reads) include ``permission``."""
    return any(fnmatchcase(permission, pattern) for pattern in held or ())


class Permissions(frozenset):
    """A caller's permissions, where ``"members.view_resident_id" in caller`` honours
    patterns (what a service's ``Caller`` dependency should give its methods)."""

    def __contains__(self, permission):
        return granted(iter(self), permission)
