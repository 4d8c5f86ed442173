"""The OpenAPI 3 document of the whole API, built from the route tables and the very marshmallow
schemas the gateway validates with (apispec), so documentation and validation cannot drift."""
import re
from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin


from services.gateway import arguments

PREFIX = "/api/v1"
_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
ERROR = {"type": "object", "required": ["error", "message", "request_id"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"},
    "request_id": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "array",
                                                         "items": {"type": "string"}}}}}
ERRORS = {"400": "invalid request (each field and its reason)", "401": "not logged in",
          "403": "outside the caller's role or scope", "404": "not found",
          "409": "conflicts with the current state", "422": "refused by the service's rules",
          "503": "a service is down or did not answer in time"}


def openapi_path(rule: str) -> tuple[str, list[dict]]:
    """``/stars/<any(a, b):kind>/<int:id>`` -> ``/stars/{kind}/{id}`` and its parameters."""
    parameters = []

    def replace(match):
        converter, args, name = match.groups()
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        if converter == "any":
            schema["enum"] = [a.strip().strip("'\"") for a in args.split(",")]
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
        return "{" + name + "}"

    return PREFIX + _VARIABLE.sub(replace, rule), parameters


def build(service_routes: dict, builtin: list, version: str) -> dict:
    """``service_routes``: {service name: routes}; ``builtin``: the gateway's own operations as
    (method, path, summary, body schema or None, public, tag)."""
    spec = APISpec(title="Jiceng API", version=version, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "The county's grassroots Party-building system. Log in "
                         "at /api/v1/auth/login (or get a client token at /api/v1/auth/token) "
                         "and send `Authorization: Bearer <access_token>`. Writes accept an "
                         "`Idempotency-Key` header; every answer carries `X-Request-Id`."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.security_scheme("clientCredentials", {"type": "oauth2", "flows": {
        "clientCredentials": {"tokenUrl": f"{PREFIX}/auth/token", "scopes": {}}}})
    spec.components.schema("Error", ERROR)
    paths: dict[str, dict] = {}
    for service, routes in sorted(service_routes.items()):
        for route in routes:
            path, parameters = openapi_path(route.path)
            operation = _operation(spec, route, service, parameters)
            paths.setdefault(path, {})[route.method.lower()] = operation
    for method, path, summary, body, public, tag in builtin:
        operation = {"summary": summary, "tags": [tag], "operationId": _builtin_id(method, path),
                     "responses": {"200": {"description": "done"}, **_error_responses()}}
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema_ref(spec, body)}}}
        if not public:
            operation["security"] = [{"bearer": []}, {"clientCredentials": []}]
        paths.setdefault(PREFIX + path, {})[method.lower()] = operation
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return numbers_as_json(spec.to_dict())


def numbers_as_json(value):
    """The document with every ``Decimal`` (a ``Range`` of a decimal field: ``minimum``,
    ``maximum``, defaults) as a JSON number: OpenAPI wants ``"minimum": 0``, not ``"0"``."""
    if isinstance(value, dict):
        return {key: numbers_as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [numbers_as_json(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _operation(spec, route, service, parameters):
    query = arguments.query_schema(route)
    for name, field in query.fields.items():
        parameters.append({"in": "query", "name": name, "required": field.required,
                           "schema": _field_schema(spec, field)})
    if route.paged:
        parameters.append({"in": "query", "name": "format", "required": False,
                           "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}})
    if route.writes:
        parameters.append({"in": "header", "name": "Idempotency-Key", "required": False,
                           "schema": {"type": "string", "maxLength": 200}})
    operation = {"summary": route.summary, "operationId": f"{service}.{route.rpc}",
                 "tags": list(route.tags) or [service], "parameters": parameters,
                 "responses": {str(route.status): {"description": "done", "content": {
                     "application/json": {"schema": _page() if route.paged else {}}}},
                     **_error_responses()}}
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _schema_ref(spec, route.body)}}}
    if route.permission is not None:
        operation["security"] = [{"bearer": []}, {"clientCredentials": []}]
        operation["description"] = f"Needs the permission `{route.permission}`" + (
            f"; the unit ({route.unit}) must be inside the caller's scope." if route.unit else ".")
    return operation


def _schema_ref(spec, schema_cls):
    name = schema_cls.__name__
    if name not in spec.components.schemas:
        spec.components.schema(name, schema=schema_cls)
    return {"$ref": f"#/components/schemas/{name}"}


def _field_schema(spec, field):
    plugin = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
    return plugin.converter.field2property(field)


def _page():
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": {}}, "offset": {"type": "integer"},
        "limit": {"type": "integer"}, "next_offset": {"type": "integer", "nullable": True}}}


def _error_responses():
    return {code: {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in ERRORS.items()}


def _builtin_id(method, path):
    return "gateway." + method.lower() + re.sub(r"\W+", "_", path).rstrip("_")


