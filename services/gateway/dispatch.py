"""One HTTP request through the gateway: who is calling, may they, call the service, answer.

``Gateway`` holds what a worker needs (the URL map, settings, the RPC caller, the store) and
``handle(request)`` returns a werkzeug ``Response``; the nameko entrypoints in ``service.py``
only hand requests to it. The gateway's own operations (log in, tokens, users, API clients,
audit, the OpenAPI document) are in ``own.py``."""
import json
import logging
import re
import time
import uuid
from datetime import date, datetime
from decimal import Decimal

from werkzeug.exceptions import MethodNotAllowed, NotFound as NoSuchPath
from werkzeug.wrappers import Response

from services.gateway import (accounts, arguments, audit, exports, http_errors, metrics, oidc,
                              roles, tokens)
from services.gateway.http_errors import NoRoute, Unauthenticated
from services.gateway.models import Unit
from shared.logs import describe

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
ANONYMOUS = {"user": None, "kind": "anonymous", "role": "anonymous", "scope_unit_id": None,
             "permissions": frozenset()}


class Gateway:
    def __init__(self, url_map, own, settings, services, store, cache=None):
        self.url_map = url_map
        self.own = own
        self.settings = settings
        self.services = services
        self.store = store
        self.cache = cache                 # a ``PublicCache`` for public reads, or None
        self.answered = None               # (cache key, kept entry) of a kept public answer

    def handle(self, request) -> Response:
        started = time.monotonic()
        request_id = request_id_of(request)
        label, caller, service = "unmatched", None, None
        try:
            own = self.own.match(request)
            if own is not None:
                label = own.label
                caller = self.caller(request, required=not own.public)
                answer = own.run(self, request, caller, request_id)
                if isinstance(answer, Response):
                    answer.headers["X-Request-Id"] = request_id
                    return self._done(request, answer, label, started)
                status, body = answer
            else:
                (service, route), values = self._match(request)
                label = f"{service}.{route.rpc}"
                caller = self.caller(request, required=route.permission is not None)
                status, body = self.call_route(service, route, values, request, caller,
                                               request_id)
                if self._cached(route) and status == 200 and not isinstance(body, Response):
                    response = json_response(status, body, request_id, kept_headers(self.cache))
                    if self.answered is not None and plain_read(request):
                        self.cache.remember(url_of(request), *self.answered,
                                            (label, status, response.get_data()))
                    return self._done(request, response, label, started)
            if isinstance(body, Response):
                body.headers["X-Request-Id"] = request_id
                response = body
            else:
                response = json_response(status, body, request_id)
        except Exception as exc:  # every failure becomes an HTTP answer
            status, body, headers = http_errors.describe(exc, request_id, service)
            if status >= 500 and status != 503:
                log.exception("%s %s failed (request %s)", request.method, request.path,
                              request_id)
            elif status == 503:
                log.warning("%s %s: %s (request %s)", request.method, request.path,
                            describe(exc), request_id)
            response = json_response(status, body, request_id, headers)
        if request.method != "GET":
            self._audit(request, caller, label, response.status_code, request_id)
        return self._done(request, response, label, started)

    @staticmethod
    def _done(request, response, label, started):
        metrics.observe(request.method, label, response.status_code,
                        time.monotonic() - started)
        return response

    def _match(self, request):
        adapter = self.url_map.bind("gateway", path_info=request.path)
        try:
            return adapter.match(method=request.method)
        except MethodNotAllowed as exc:
            raise NoRoute(405, f"{request.method} is not allowed here; try "
                               f"{', '.join(sorted(exc.valid_methods or ()))}") from None
        except NoSuchPath:
            raise NoRoute(404, f"no endpoint {request.path}; the API is described at "
                               "/api/v1/openapi.json") from None

    def call_route(self, service, route, values, request, caller, request_id):
        self.authorise(caller, route.permission, arguments.unit_of(route, values, "path"))
        query, sheet = exported(route, request.args)
        kwargs = arguments.build(route, values, query, request.get_data(cache=False))
        if route.unit is not None and not route.unit.startswith("path:"):
            self.authorise(caller, route.permission, arguments.unit_of(route, kwargs))
        if route.caller_arg:
            kwargs[route.caller_arg] = caller["user"]
        context = self.rpc_context(caller, request, request_id, route.writes)
        if self._cached(route) and sheet is None and not fresh_asked(request):
            # one answer for every reader, so asked as no one in particular
            shared = self.rpc_context(ANONYMOUS, request, request_id, False)
            key = self.cache.key(service, route.rpc, kwargs)
            result = self.cache.answer(key, lambda: self.services.call(service, route.rpc,
                                                                       kwargs, shared))
            self.answered = (key, self.cache.entry(key))
        else:
            result = self.services.call(service, route.rpc, kwargs, context,
                                        timeout=route.timeout_seconds)
        if sheet is not None:
            return 200, Response(exports.render(result, sheet, route.rpc),
                                 mimetype=exports.FORMATS[sheet], headers={
                                     "Content-Disposition":
                                         f'attachment; filename="{route.rpc}.{sheet}"'})
        if route.paged:
            offset, limit = kwargs["offset"], kwargs["limit"]
            result = {"items": result, "offset": offset, "limit": limit,
                      "next_offset": offset + limit if len(result) >= limit else None}
        return route.status, result

    def _cached(self, route) -> bool:
        return (self.cache is not None and self.cache.seconds > 0 and route.permission is None
                and not route.writes)

    def authorise(self, caller, permission, unit_id):
        if permission is None:
            return
        if caller is None or caller["user"] is None:
            raise Unauthenticated("log in first (Authorization: Bearer <access token>)")
        roles.check(caller, permission, unit_id, self.parent_of)

    def parent_of(self, unit_id):
        with self.store.reading() as session:
            unit = session.get(Unit, unit_id)
            return None if unit is None else unit.parent_id

    def caller(self, request, required):
        """The caller from the Authorization header; anonymous without one (a route that needs
        a login refuses anonymous callers in ``authorise``)."""
        header = request.headers.get("Authorization", "")
        if not header:
            return dict(ANONYMOUS)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use Authorization: Bearer <access token>")
        token = token.strip()
        now = tokens.utcnow()
        if oidc.is_external(token, self.settings):
            claims = oidc.read(token, self.settings)
            return oidc.caller(claims, self.settings)
        claims = tokens.read_access(self.settings["secret"], token, now)
        with self.store.reading() as session:
            if accounts.is_revoked(session, claims["jti"]):
                raise Unauthenticated("the access token was revoked; log in again")
        return {"user": claims["sub"], "kind": claims.get("kind", "user"),
                "role": claims.get("role"), "scope_unit_id": claims.get("unit"),
                "permissions": roles.permissions_of(claims.get("role"), claims.get("scopes")),
                "claims": claims}

    @staticmethod
    def rpc_context(caller, request, request_id, writes):
        context = {"correlation_id": request_id, "user": caller["user"],
                   "role": caller["role"], "scope_unit_id": caller["scope_unit_id"],
                   "permissions": sorted(caller["permissions"])}
        key = request.headers.get("Idempotency-Key")
        if writes and key:
            if len(key) > 200 or not key.isprintable():
                raise http_errors.BadRequest({"Idempotency-Key": [
                    "must be 1 to 200 printable characters"]})
            context["idempotency_key"] = f"{caller['user']}:{key}"
        # nameko sends context as AMQP headers and warns on every None (an anonymous caller)
        return {name: value for name, value in context.items() if value is not None}

    def _audit(self, request, caller, label, status, request_id):
        write_audit(self.store, request, caller, label, status, request_id)


def write_audit(store, request, caller, label, status, request_id):
    """Append the audit line of an answered write; a line that cannot be written is logged."""
    try:
        with store.transaction() as session:
            audit.record(session, tokens.utcnow(), caller, request.method, request.path,
                         label, status, request.remote_addr, request_id)
    except Exception:  # the answer is given; a lost audit line is logged, loudly
        log.exception("could not write the audit line of request %s", request_id)


def fresh_asked(request) -> bool:
    """Whether the client asked for an answer from the service itself (``Cache-Control:
    no-cache`` or ``Pragma: no-cache``), not one the gateway kept."""
    control = request.headers.get("Cache-Control", "").lower()
    return "no-cache" in control or "no-store" in control or \
        request.headers.get("Pragma", "").lower() == "no-cache"


def exported(route, query):
    """(the query without ``format``, the sheet format asked for or None): a paged list can
    be had as CSV or XLSX (``?format=csv``); JSON is the default."""
    sheet = query.get("format")
    if sheet is None or sheet == "json":
        rest = query.copy()
        rest.pop("format", None)
        return rest, None
    if not route.paged:
        raise http_errors.BadRequest({"format": ["only lists can be exported"]})
    if sheet not in exports.FORMATS:
        raise http_errors.BadRequest({"format": ["must be json, csv or xlsx"]})
    rest = query.copy()
    rest.pop("format")
    return rest, sheet


def kept_answer(cache, request):
    """The response ``cache`` keeps for this anonymous public read (``PublicCache.rendered``),
    with its own request id and counted in the metrics; None when the request must go through
    ``Gateway.handle``."""
    if not plain_read(request) or fresh_asked(request):
        return None
    rendered = cache.rendered(url_of(request))
    if rendered is None:
        return None
    started = time.monotonic()
    label, status, body = rendered
    response = Response(body, status=status, mimetype="application/json",
                        headers={**kept_headers(cache), "X-Request-Id": request_id_of(request)})
    return Gateway._done(request, response, label, started)


def plain_read(request) -> bool:
    """A GET with no credentials and no body: its answer depends on its URL alone."""
    headers = request.headers
    return (request.method == "GET" and "Authorization" not in headers
            and headers.get("Content-Length", "0") == "0" and "Transfer-Encoding" not in headers)


def kept_headers(cache) -> dict:
    return {"Cache-Control": f"public, max-age={max(1, round(cache.seconds))}"}


def url_of(request) -> str:
    return f"{request.path}?{request.query_string.decode('latin-1')}"


def request_id_of(request) -> str:
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID.match(given) else str(uuid.uuid4())


def json_response(status, body, request_id, headers=None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False, default=_plain), status=status,
                        mimetype="application/json")
    response.headers["X-Request-Id"] = request_id
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"cannot answer with a {type(value).__name__}")
