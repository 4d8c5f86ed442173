"""The gateway's own operations under /api/v1: logging in, tokens, users, API clients, the audit
log and the API's description. Each is ``(status, body) = run(gateway, request, caller,
request_id)``; bodies are validated with the schemas in ``schemas.py`` (400 naming the field)."""
import json
from dataclasses import dataclass
from typing import Callable

from marshmallow import RAISE, ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from services.gateway import accounts, audit, docs_page, openapi, schemas, tokens
from services.gateway.http_errors import BadRequest, NoRoute, Unauthenticated
from services.gateway.models import Unit, User
from shared.errors import InvalidInput, flatten_messages

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Own:
    method: str
    path: str
    label: str
    summary: str
    run: Callable
    public: bool = False
    body: type | None = None
    permission: str | None = None
    tag: str = "gateway"


def _body(request, schema_cls) -> dict:
    raw = request.get_data(cache=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        data = request.form.to_dict()
    else:
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, ValueError):
            raise BadRequest({"_body": ["is not JSON"]}) from None
    if not isinstance(data, dict):
        raise BadRequest({"_body": ["must be a JSON object"]})
    try:
        return schema_cls(unknown=RAISE).load(data)
    except ValidationError as exc:
        raise BadRequest(flatten_messages(exc.messages)) from None


def _paging(request, **filters) -> dict:
    schema = schemas.paging_schema(filters)
    flat = request.args.to_dict()
    try:
        return schema.load(flat)
    except ValidationError as exc:
        raise BadRequest(flatten_messages(exc.messages)) from None


def _page(items, paging):
    offset, limit = paging["offset"], paging["limit"]
    return {"items": items, "offset": offset, "limit": limit,
            "next_offset": offset + limit if len(items) >= limit else None}


def login(gateway, request, caller, request_id):
    data = _body(request, schemas.LoginBody)
    now, address = tokens.utcnow(), request.remote_addr or "-"
    try:
        with gateway.store.transaction() as session:
            return 200, accounts.login(session, data["username"], data["password"], address,
                                       gateway.settings, now)
    except Unauthenticated:
        with gateway.store.transaction() as session:
            accounts.record_failure(session, data["username"], address, now)
        raise


def refresh(gateway, request, caller, request_id):
    data = _body(request, schemas.RefreshBody)
    try:
        with gateway.store.transaction() as session:
            return 200, accounts.refresh(session, data["refresh_token"], gateway.settings,
                                         tokens.utcnow())
    except accounts.ReusedRefreshToken as reused:
        with gateway.store.transaction() as session:
            accounts.revoke_family(session, reused.family)
        raise


def logout(gateway, request, caller, request_id):
    data = _body(request, schemas.LogoutBody) if request.get_data(cache=True).strip() else {}
    _must_be_logged_in(caller)
    if caller["kind"] != "user" or "claims" not in caller:
        raise BadRequest({"Authorization": ["only a user's own access token can be revoked"]})
    with gateway.store.transaction() as session:
        accounts.logout(session, caller["claims"], data.get("refresh_token"), tokens.utcnow())
    return 200, {"revoked": True}


def client_token(gateway, request, caller, request_id):
    """OAuth2 client credentials (RFC 6749 section 4.4): form or JSON body; the client may
    authenticate with HTTP Basic instead of ``client_id``/``client_secret`` in the body."""
    data = _body(request, schemas.TokenBody)
    client_id, secret = data.get("client_id"), data.get("client_secret")
    basic = request.authorization
    if basic is not None and basic.type == "basic":
        client_id, secret = basic.username, basic.password
    if not client_id or not secret:
        raise BadRequest({"client_id": ["give client_id and client_secret (or HTTP Basic)"]})
    scopes = (data.get("scope") or "").split()
    with gateway.store.reading() as session:
        return 200, accounts.client_token(session, client_id, secret, scopes, gateway.settings,
                                          tokens.utcnow())


def me(gateway, request, caller, request_id):
    _must_be_logged_in(caller)
    return 200, {"user": caller["user"], "kind": caller["kind"], "role": caller["role"],
                 "scope_unit_id": caller["scope_unit_id"],
                 "permissions": sorted(caller["permissions"])}


def create_user(gateway, request, caller, request_id):
    data = _body(request, schemas.UserBody)
    gateway.authorise(caller, "users.write", data.get("unit_id"))
    with gateway.store.transaction() as session:
        _known_unit(session, data.get("unit_id"))
        return 201, accounts.create_user(session, data, tokens.utcnow())


def list_users(gateway, request, caller, request_id):
    gateway.authorise(caller, "users.write", None)
    paging = _paging(request)
    with gateway.store.reading() as session:
        rows = session.scalars(select(User).order_by(User.id).offset(paging["offset"])
                               .limit(paging["limit"]))
        return 200, _page([accounts.user_dict(u) for u in rows], paging)


def create_client(gateway, request, caller, request_id):
    data = _body(request, schemas.ClientBody)
    gateway.authorise(caller, "clients.write", data.get("unit_id"))
    with gateway.store.transaction() as session:
        _known_unit(session, data.get("unit_id"))
        return 201, accounts.create_client(session, data, tokens.utcnow())


def read_audit(gateway, request, caller, request_id):
    gateway.authorise(caller, "audit.view", None)
    query = _paging(request, **schemas.AUDIT_FILTERS)
    with gateway.store.reading() as session:
        return 200, _page(audit.query(session, **query), query)


def openapi_document(gateway, request, caller, request_id):
    return 200, gateway.openapi()


def docs(gateway, request, caller, request_id):
    return Response(docs_page.render(gateway.openapi()), mimetype="text/html")


def _must_be_logged_in(caller):
    if caller is None or caller["user"] is None:
        raise Unauthenticated("log in first (Authorization: Bearer <access token>)")


def _known_unit(session, unit_id):
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise InvalidInput({"unit_id": [f"organisation unit {unit_id} is not known (yet)"]})


OPERATIONS = (
    Own("POST", "/auth/login", "gateway.login", "Log in: access and refresh tokens", login,
        public=True, body=schemas.LoginBody, tag="auth"),
    Own("POST", "/auth/refresh", "gateway.refresh", "A new token pair for a refresh token",
        refresh, public=True, body=schemas.RefreshBody, tag="auth"),
    Own("POST", "/auth/logout", "gateway.logout", "Revoke this access token and its login",
        logout, body=schemas.LogoutBody, tag="auth"),
    Own("POST", "/auth/token", "gateway.client_token",
        "OAuth2 client credentials: an access token for an integrating system", client_token,
        public=True, body=schemas.TokenBody, tag="auth"),
    Own("GET", "/me", "gateway.me", "Who the token belongs to and what it may do", me,
        tag="auth"),
    Own("POST", "/users", "gateway.create_user", "Create a user (county administrators)",
        create_user, body=schemas.UserBody, tag="accounts"),
    Own("GET", "/users", "gateway.list_users", "Users", list_users, tag="accounts"),
    Own("POST", "/clients", "gateway.create_client",
        "Register an integrating system; its secret is shown once", create_client,
        body=schemas.ClientBody, tag="accounts"),
    Own("GET", "/audit", "gateway.audit", "The audit log of writes (auditors)", read_audit,
        tag="accounts"),
    Own("GET", "/openapi.json", "gateway.openapi", "This API's OpenAPI 3 document",
        openapi_document, public=True, tag="meta"),
)
DOCS = Own("GET", "/docs", "gateway.docs", "This API, browsable", docs, public=True, tag="meta")
RESERVED = ("/auth/", "/me", "/users", "/clients", "/audit", "/openapi.json", "/docs")


class OwnOperations:
    def __init__(self, operations=OPERATIONS):
        self.by_key = {(op.method, PREFIX + op.path): op for op in (*operations, DOCS)}

    def match(self, request):
        path = request.path.rstrip("/") or "/"
        found = self.by_key.get((request.method, path))
        if found is None:
            allowed = sorted(method for method, own_path in self.by_key if own_path == path)
            if allowed:
                raise NoRoute(405, f"{request.method} is not allowed here; try "
                                   f"{', '.join(allowed)}")
        return found

    def described(self):
        return [(op.method, op.path, op.summary, op.body, op.public, op.tag)
                for op in OPERATIONS]
