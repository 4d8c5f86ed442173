"""Scope, checked by the service itself: a gateway caller acts only inside its organisation unit.

The gateway passes its caller in the RPC context (``role``, ``scope_unit_id``; see
``shared.bus.guard``) and refuses what it can see is out of scope; the service checks again,
so a check the gateway forgot is not a hole. ``ServiceBase`` wraps every RPC that one of its
``api`` routes publishes (``guard_methods``); before the method runs, for a call that carries
a ``role`` and a ``scope_unit_id`` (a county-wide caller has none), the wrapper finds the units
the call acts on from the route:

* ``unit="path:NAME"`` / ``"query:NAME"``: the RPC argument ``NAME``;
  ``unit="body:NAME"``: the field ``NAME`` of the body argument. A call that leaves it out
  (an optional filter) is refused: a scoped caller must name a unit inside its scope.
* ``owner="METHOD"``: a method of the service, called with the RPC's own arguments, that
  returns the unit the object belongs to (a ticket's village, an activity's branch), or a
  list of them, or None when there is no such object (then the RPC itself answers NotFound).
* neither: the route acts on no one unit. A read is answered (reference data, public boards);
  a write is refused to a scoped caller, so a write route that forgot to say whose it is stays
  closed rather than open.

Each unit must be the caller's scope or lie under it (``covers``), walking up the service's own
copy of the organisation tree: ``ServiceBase.scope_parent_of`` (by default the
``scope_units`` model's ``parent_id``, or ``township_id`` where that is all it keeps). A unit
the service has not heard of yet is outside every scope. Calls from inside (no ``role``) are
not checked here.
"""
import functools
import inspect

from shared.errors import Forbidden

MAX_DEPTH = 32


def covers(scope_unit_id, unit_id, parent_of) -> bool:
    """Whether ``unit_id`` is ``scope_unit_id`` or lies under it; ``parent_of(id)`` gives a
    unit's parent id (None at the root, or for a unit not known). A scope of None is the whole
    county."""
    if scope_unit_id is None:
        return True
    seen = set()
    current = unit_id
    while current is not None and current not in seen and len(seen) < MAX_DEPTH:
        if current == scope_unit_id:
            return True
        seen.add(current)
        current = parent_of(current)
    return False


def scoped_caller(context) -> bool:
    """Whether the call comes through the gateway from a caller bound to one unit."""
    return "role" in context and context.get("scope_unit_id") is not None


def units_named(route, args, kwargs, fn) -> tuple[list, str | None]:
    """(the units a ``unit=``-route's call names, the argument it reads) for the call
    ``fn(self, *args, **kwargs)``; an empty list when the call leaves the unit out."""
    source, _, name = route.unit.partition(":")
    bound = _bound(fn, args, kwargs)
    if source == "body":
        body = bound.get(route.body_arg) if route.body_arg else bound
        value = body.get(name) if isinstance(body, dict) else None
    else:
        value = bound.get(name)
    return ([] if value is None else [value]), name


def _bound(fn, args, kwargs) -> dict:
    try:
        signature = inspect.signature(inspect.unwrap(fn))
        return dict(signature.bind_partial(None, *args, **kwargs).arguments)
    except TypeError:
        return dict(kwargs)


def refusal(route, context, units, argument, parent_of) -> str | None:
    """Why a scoped caller may not make this call on ``units``, or None."""
    scope = context.get("scope_unit_id")
    if route.unit is None and route.owner is None:
        if route.writes:
            return (f"{route.rpc} acts on the whole county; your role {context.get('role')} is "
                    f"limited to unit {scope}")
        return None
    if not units:
        if route.owner is not None:
            return None                 # no such object: the RPC answers NotFound
        return f"{argument}: name a unit inside your scope (unit {scope})"
    for unit in units:
        try:
            unit_id = int(unit)
        except (TypeError, ValueError):
            return None                 # not an id: the RPC refuses it as input
        if not covers(scope, unit_id, parent_of):
            return f"organisation unit {unit_id} is outside your scope (unit {scope})"
    return None


def check(service, route, fn, args, kwargs):
    """Raise ``Forbidden`` when the call on ``service`` (a worker's service instance) falls
    outside its gateway caller's scope (see the module docstring)."""
    context = service.scope_context()
    if not scoped_caller(context):
        return
    argument = None
    if route.owner is not None:
        owned = getattr(service, route.owner)(*args, **kwargs)
        units = [] if owned is None else list(owned) if isinstance(owned, (list, tuple, set)) \
            else [owned]
    elif route.unit is not None:
        units, argument = units_named(route, args, kwargs, fn)
    else:
        units = []
    reason = refusal(route, context, units, argument, service.scope_parent_of)
    if reason is not None:
        raise Forbidden(reason)


def guard_methods(cls):
    """Wrap each method of ``cls`` that a route of ``cls.api`` publishes with ``check`` (once;
    the wrapper keeps the method's nameko entrypoints and signature)."""
    by_rpc: dict[str, list] = {}
    for route in getattr(cls, "api", ()) or ():
        by_rpc.setdefault(route.rpc, []).append(route)
    for name, routes in by_rpc.items():
        method = cls.__dict__.get(name)
        if method is None or getattr(method, "scope_guarded", False):
            continue
        setattr(cls, name, _guarded(method, _strictest(routes)))


def _strictest(routes):
    """One RPC behind several routes (``measures``) is checked as its most demanding route:
    one that names a unit or an owner over one that names none."""
    return sorted(routes, key=lambda r: (r.owner is None, r.unit is None))[0]


def _guarded(method, route):
    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        check(self, route, method, args, kwargs)
        return method(self, *args, **kwargs)

    guarded.scope_guarded = True
    return guarded
