"""The gateway's URL map: every installed service's routes under /api/v1 (``shared.api``)."""
from werkzeug.routing import Map, Rule

from shared.api import routes_of

PREFIX = "/api/v1"


def service_routes(classes: dict) -> dict:
    """{service name: its routes} for the installed services that declare any."""
    return {name: routes_of(cls) for name, cls in sorted(classes.items()) if routes_of(cls)}


def url_map(service_routes_: dict, reserved=()) -> Map:
    """Endpoint of each rule: (service name, route). Two services claiming one method and path,
    or a service claiming a gateway path (``reserved``), stop the gateway at start-up."""
    seen = {}
    rules = []
    for service, routes in service_routes_.items():
        for route in routes:
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"{route.method} {route.path} is declared by both {seen[key]} "
                                 f"and {service}")
            if any(_within(route.path, own) for own in reserved):
                raise ValueError(f"{service}: {route.path} is the gateway's own")
            seen[key] = service
            rules.append(Rule(PREFIX + route.path, methods=[route.method],
                              endpoint=(service, route)))
    return Map(rules, strict_slashes=False)


def _within(path: str, own: str) -> bool:
    own = own.rstrip("/")
    return path == own or path.startswith(own + "/")
