"""Open311 GeoReport v2 at the gateway: ``/open311/discovery.json`` and ``/open311/v2/...``,
answered by the tickets service's ``open311_*`` RPCs (``services/tickets/open311_answers.py``
keeps the spec's rules; this module only speaks HTTP).

``match(request)`` says whether a request is for this endpoint; ``handle(services, request,
request_id)`` answers it with a werkzeug ``Response``. The gateway asks tickets as itself (no
caller in the RPC context, like the public ticket-status page): the endpoint needs no login, a
POST's ``api_key`` is the credential and tickets checks it; a POST may carry ``Idempotency-Key``
(``retry_key``) so that a city system can retry it safely. The RPCs take plain data: the query
string as ``args`` and a POST's form as ``form`` (dicts, the first value of each name), the
path's parts, and ``host_url`` for discovery; they answer ``[status, body]``, relayed as it is.

Every answer is JSON (``application/json; charset=utf-8``) with ``X-Request-Id``; every error
is the spec's list ``[{"code": status, "description": text}]``: an unknown path 404, another
method 405; a refusal of the RPC as tickets answers its own (InvalidInput 400, one entry per
parameter; NotFound 404; Forbidden 403; Conflict 400; one log line); tickets down or not
answering in time 503 with ``Retry-After``; anything else 500 (logged with its traceback)."""
import json
import logging
import time

from nameko.exceptions import RpcTimeout, UnknownService
from werkzeug.exceptions import MethodNotAllowed, NotFound as NoSuchPath
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from services.gateway import metrics
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.logs import describe

log = logging.getLogger(__name__)
SERVICE = "tickets"
DISCOVERY = "/open311/discovery.json"
BASE = "/open311/v2"
CONTENT_TYPE = "application/json; charset=utf-8"
RETRY_AFTER_SECONDS = 5

URLS = Map([
    Rule(DISCOVERY, endpoint="open311_discovery", methods=["GET"]),
    Rule(f"{BASE}/services.<format>", endpoint="open311_services", methods=["GET"]),
    Rule(f"{BASE}/services/<service_code>.<format>", endpoint="open311_definition",
         methods=["GET"]),
    Rule(f"{BASE}/requests.<format>", endpoint="open311_requests", methods=["GET"]),
    Rule(f"{BASE}/requests.<format>", endpoint="open311_create", methods=["POST"]),
    Rule(f"{BASE}/requests/<service_request_id>.<format>", endpoint="open311_request",
         methods=["GET"]),
])


class Unanswered(Exception):
    """A request this endpoint answers with an error itself (no RPC made)."""

    def __init__(self, status, description, headers=None):
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers or {}


def match(request) -> bool:
    """Whether ``request`` is for the Open311 endpoint (its path, whatever the method)."""
    path = request.path
    return path == DISCOVERY or path == BASE or path.startswith(BASE + "/")


def rpc_call(request) -> tuple[str, dict]:
    """(the tickets RPC, its keyword arguments) for an Open311 request (pure);
    ``Unanswered`` for a path or method the endpoint does not serve."""
    adapter = URLS.bind("open311", path_info=request.path)
    try:
        rpc, values = adapter.match(method=request.method)
    except MethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.valid_methods or ()))
        raise Unanswered(405, f"{request.method} is not allowed here; use {allowed}",
                         {"Allow": allowed}) from None
    except NoSuchPath:
        raise Unanswered(404, f"no Open311 endpoint {request.path}; see {DISCOVERY}") from None
    if rpc == "open311_discovery":
        return rpc, {"host_url": request.host_url}
    kwargs = {**values, "args": request.args.to_dict()}
    if rpc == "open311_create":
        kwargs["form"] = request.form.to_dict()
    return rpc, kwargs


def retry_key(request) -> dict:
    """The RPC context of a POST's ``Idempotency-Key`` header, an extension to GeoReport v2
    (which has no such key): the same key with the same form answers with the first ticket
    instead of opening a second; with another form it is refused (400). Kept per ``api_key``,
    so two city systems' keys cannot meet. Without the header a retried POST opens a ticket."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return {}
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise Unanswered(400, "Idempotency-Key: must be 1 to 200 printable characters")
    return {"idempotency_key": f"open311 {request.form.get('api_key', '')}:{key}"}


def errors(status, *descriptions) -> list[dict]:
    return [{"code": status, "description": text} for text in descriptions]


def refusal_answer(exc) -> tuple[int, list[dict]]:
    """(status, error list) for a refusal of an Open311 RPC, as tickets answers its own."""
    if isinstance(exc, InvalidInput):
        return 400, errors(400, *(f"{field}: {'; '.join(map(str, reasons))}"
                                  for field, reasons in exc.errors.items()))
    if isinstance(exc, NotFound):
        return 404, errors(404, str(exc))
    if isinstance(exc, Forbidden):
        return 403, errors(403, str(exc))
    return 400, errors(400, str(exc))


def handle(services, request, request_id) -> Response:
    """Answer one Open311 request through ``services.call`` (the gateway's RPC caller)."""
    started = time.monotonic()
    label, headers = "open311", {}
    try:
        rpc, kwargs = rpc_call(request)
        label = f"{SERVICE}.{rpc}"
        context = {"correlation_id": request_id}
        if rpc == "open311_create":
            context.update(retry_key(request))
        status, body = services.call(SERVICE, rpc, kwargs, context)
    except Unanswered as unanswered:
        status, body = unanswered.status, errors(unanswered.status, unanswered.description)
        headers = unanswered.headers
    except (InvalidInput, NotFound, Forbidden, Conflict) as refused:
        log.info("%s %s refused: %s (request %s)", request.method, request.path,
                 describe(refused), request_id)
        status, body = refusal_answer(refused)
    except (RpcTimeout, UnknownService) as exc:
        log.warning("%s %s: %s (request %s)", request.method, request.path, describe(exc),
                    request_id)
        status, body = 503, errors(503, f"the {SERVICE} service is down or did not answer in "
                                        "time; try again shortly")
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    except Exception:  # a fault: the spec's general error, the traceback to the log
        log.exception("%s %s failed (request %s)", request.method, request.path, request_id)
        status, body = 500, errors(500, "general service error: please tell the county's "
                                        f"service office (request {request_id})")
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        content_type=CONTENT_TYPE)
    response.headers["X-Request-Id"] = request_id
    for name, value in headers.items():
        response.headers[name] = value
    metrics.observe(request.method, label, status, time.monotonic() - started)
    return response
