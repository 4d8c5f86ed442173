"""From an HTTP request to the keyword arguments of an RPC (pure; werkzeug types only).

``build(route, path_values, query, body_bytes)`` validates the query string and the JSON body
with the route's schemas and returns the RPC's keyword arguments, or raises ``BadRequest``
naming each field. The body goes to the service as it came (after validation), so the service
validates and converts it itself: the gateway never changes what the service receives."""
import json

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.gateway.http_errors import BadRequest
from shared.errors import flatten_messages

MAX_BODY_BYTES = 20 * 1024 * 1024
PAGING = {"offset": fields.Integer(load_default=0, validate=validate.Range(0, 10**9)),
          "limit": fields.Integer(load_default=50, validate=validate.Range(1, 1000))}
_QUERY_SCHEMAS: dict = {}


def query_schema(route) -> Schema:
    """The route's query schema (cached): its fields, plus offset and limit when paged."""
    key = (route.method, route.path)
    if key not in _QUERY_SCHEMAS:
        declared = route.query
        if isinstance(declared, type):
            declared = dict(declared().fields)
        spec = {**(declared or {}), **(PAGING if route.paged else {})}
        _QUERY_SCHEMAS[key] = Schema.from_dict(spec, name=_name(route, "Query"))(unknown=RAISE)
    return _QUERY_SCHEMAS[key]


def _name(route, suffix):
    return "".join(part.capitalize() for part in route.rpc.split("_")) + suffix


def read_query(route, query) -> dict:
    """``query`` is a werkzeug MultiDict; a parameter given twice is refused."""
    flat = {}
    for name in query.keys():
        values = query.getlist(name)
        if len(values) > 1:
            raise BadRequest({name: ["give it once"]})
        flat[name] = values[0]
    try:
        return query_schema(route).load(flat)
    except ValidationError as exc:
        raise BadRequest(flatten_messages(exc.messages)) from None


def read_body(route, body_bytes: bytes):
    if route.body is None:
        if body_bytes.strip():
            raise BadRequest({"_body": ["this endpoint takes no body"]})
        return None
    if len(body_bytes) > MAX_BODY_BYTES:
        raise BadRequest({"_body": [f"is larger than {MAX_BODY_BYTES} bytes"]})
    try:
        data = json.loads(body_bytes.decode("utf-8")) if body_bytes.strip() else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest({"_body": [f"is not JSON: {str(exc)[:120]}"]}) from None
    if not isinstance(data, dict):
        raise BadRequest({"_body": ["must be a JSON object"]})
    try:
        route.body(unknown=RAISE).load(data)
    except ValidationError as exc:
        raise BadRequest(flatten_messages(exc.messages)) from None
    return data


def build(route, path_values: dict, query, body_bytes: bytes) -> dict:
    """The RPC's keyword arguments."""
    arguments = dict(path_values)
    arguments.update(read_query(route, query))
    body = read_body(route, body_bytes)
    if body is not None:
        clash = set(body) & set(arguments) if route.body_arg is None else set()
        if clash:
            raise BadRequest({name: ["is given in the path or query already"] for name in clash})
        if route.body_arg is None:
            arguments.update(body)
        else:
            arguments[route.body_arg] = body
    return arguments


def unit_of(route, arguments: dict, only=None):
    """The organisation unit id the request acts on (``route.unit``), if the route names one
    (and, with ``only``, takes it from that source: "path" before the rest is read)."""
    if route.unit is None:
        return None
    source, _, name = route.unit.partition(":")
    if only is not None and source != only:
        return None
    if source == "body" and route.body_arg is not None:
        value = (arguments.get(route.body_arg) or {}).get(name)
    else:
        value = arguments.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


