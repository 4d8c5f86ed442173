"""What each failure looks like over HTTP (pure): status and JSON body.

Every error body is ``{"error": code, "message": text, "request_id": id}`` plus ``fields``
(``{"field": ["reason", ...]}``) for invalid input. Bad requests the gateway catches itself are
400; the same kind of refusal from a service is 422 (the request was well-formed, the service's
rules refused it); NotFound 404; Conflict 409; Forbidden/Denied 403; no login 401; too many
login attempts 429; a service that is down or does not answer in time 503; anything else 500
without internals (the request id finds it in the logs)."""
from nameko.exceptions import IncorrectSignature, RemoteError, RpcTimeout, UnknownService

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class BadRequest(Exception):
    """Input the gateway refuses before calling a service; ``fields`` as in InvalidInput."""

    def __init__(self, fields):
        super().__init__(fields)
        self.fields = fields


class Unauthenticated(Exception):
    pass


class TooManyAttempts(Exception):
    def __init__(self, retry_after):
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class NoRoute(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def describe(exc, request_id, service=None) -> tuple[int, dict, dict]:
    """(status, body, extra headers) for an exception raised while serving a request."""
    from services.gateway.roles import Denied
    headers = {}
    if isinstance(exc, BadRequest):
        status, code, message, fields = 400, "invalid_input", "the request is invalid", exc.fields
    elif isinstance(exc, IncorrectSignature):
        status, code, message, fields = 400, "invalid_input", str(exc), {"_query": [str(exc)]}
    elif isinstance(exc, InvalidInput):
        status, code, message, fields = 422, "invalid_input", "the service refused the input", \
            exc.errors
    elif isinstance(exc, NotFound):
        status, code, message, fields = 404, "not_found", str(exc), None
    elif isinstance(exc, Conflict):
        status, code, message, fields = 409, "conflict", str(exc), None
    elif isinstance(exc, (Forbidden, Denied)):
        status, code, message, fields = 403, "forbidden", str(exc), None
    elif isinstance(exc, Unauthenticated):
        status, code, message, fields = 401, "unauthenticated", str(exc), None
        headers["WWW-Authenticate"] = 'Bearer realm="jiceng"'
    elif isinstance(exc, TooManyAttempts):
        status, code, message, fields = 429, "too_many_attempts", str(exc), None
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, NoRoute):
        status, code, message, fields = exc.status, "not_found" if exc.status == 404 else \
            "method_not_allowed", str(exc), None
    elif isinstance(exc, (RpcTimeout, UnknownService)):
        status, code, fields = 503, "service_unavailable", None
        message = (f"the {service or 'requested'} service is down or did not answer in time; "
                   "try again shortly")
        headers["Retry-After"] = "5"
    elif isinstance(exc, RemoteError):
        status, code, message, fields = 500, "internal_error", \
            "the service failed; the request id finds it in the logs", None
    else:
        status, code, message, fields = 500, "internal_error", \
            "the gateway failed; the request id finds it in the logs", None
    body = {"error": code, "message": message, "request_id": request_id}
    if fields is not None:
        body["fields"] = fields
    return status, body, headers
