"""Every HTTP route a service declares (``shared.api``) names one of its RPCs and supplies the
arguments that RPC requires, so no route can only ever fail."""
import inspect

import pytest
from werkzeug.routing import Map, Rule

from services.gateway import arguments, routing
from services.gateway.own import RESERVED
from shared import plugins
from services.gateway.roles import COUNTY_WIDE, ROLES
from shared.api import granted, routes_of

SERVICES = plugins.services()
ROUTES = [(name, route) for name, cls in sorted(SERVICES.items()) for route in routes_of(cls)]


def test_all_routes_together_make_one_url_map_without_clashes():
    routing.url_map(routing.service_routes(SERVICES), reserved=RESERVED)


@pytest.mark.parametrize("name,route", ROUTES, ids=lambda v: getattr(v, "path", v))
def test_route_calls_an_rpc_with_every_argument_it_requires(name, route):
    method = getattr(SERVICES[name], route.rpc, None)
    assert method is not None and getattr(method, "nameko_entrypoints", None), \
        f"{name}.{route.rpc} is not an RPC"
    rule = Rule(route.path)
    Map([rule])
    supplied = set(rule.arguments) | set(arguments.query_schema(route).fields)
    if route.body is not None:
        supplied |= set(route.body().fields) if route.body_arg is None else {route.body_arg}
    if route.caller_arg:
        supplied.add(route.caller_arg)
    parameters = list(inspect.signature(method).parameters.values())[1:]
    accepted = {p.name for p in parameters}
    required = {p.name for p in parameters if p.default is inspect.Parameter.empty}
    assert required <= supplied, f"{route.path} does not supply {required - supplied}"
    assert supplied <= accepted, f"{name}.{route.rpc} does not take {supplied - accepted}"


SCOPED_ROLES = {role: held for role, held in ROLES.items() if role not in COUNTY_WIDE}


@pytest.mark.parametrize("name,route", [(n, r) for n, r in ROUTES if r.writes],
                         ids=lambda v: getattr(v, "path", v))
def test_a_write_a_scoped_role_may_make_says_whose_unit_it_acts_on(name, route):
    """``shared.scope`` refuses a scoped caller a write that names neither ``unit`` nor
    ``owner``: such a route granted to a scoped role could only ever be refused to it."""
    if route.unit is not None or route.owner is not None or route.permission is None:
        return
    granting = sorted(role for role, held in SCOPED_ROLES.items()
                      if granted(held, route.permission))
    assert not granting, (f"{name}.{route.rpc} ({route.permission}) is granted to {granting} "
                          "but names no unit or owner")
