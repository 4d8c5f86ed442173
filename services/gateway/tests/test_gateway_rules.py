"""The gateway's rules without a broker: roles and scopes, tokens, request arguments, error
shapes, login limits and the OpenAPI paths."""
from datetime import datetime, timedelta, timezone

import re
import pytest
from marshmallow import Schema, fields
from nameko.exceptions import RemoteError, RpcTimeout
from werkzeug.datastructures import MultiDict

from services.gateway import arguments, http_errors, openapi, passwords, ratelimit, roles, tokens
from services.gateway.http_errors import BadRequest, Unauthenticated
from shared.api import Route
from shared.errors import Conflict, InvalidInput, NotFound

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
PARENTS = {2: 1, 3: 2, 4: 1, 1: None}


def caller(role, unit=None):
    return {"user": "u", "role": role, "scope_unit_id": unit,
            "permissions": roles.permissions_of(role)}


def test_a_scope_covers_its_own_subtree_only():
    assert roles.covers(2, 3, PARENTS.get) and roles.covers(2, 2, PARENTS.get)
    assert not roles.covers(2, 4, PARENTS.get) and not roles.covers(3, 2, PARENTS.get)
    assert roles.covers(None, 4, PARENTS.get)
    assert not roles.covers(2, 99, PARENTS.get)          # a unit not known yet is not covered
    loop = {5: 6, 6: 5}
    assert not roles.covers(2, 5, loop.get)


def test_permission_and_scope_are_both_checked():
    roles.check(caller("village_cadre", 2), "members.write", 3, PARENTS.get)
    with pytest.raises(roles.Denied, match="outside your scope"):
        roles.check(caller("village_cadre", 2), "members.write", 4, PARENTS.get)
    with pytest.raises(roles.Denied, match="does not grant org.write"):
        roles.check(caller("village_cadre", 2), "org.write", 3, PARENTS.get)
    with pytest.raises(roles.Denied):
        roles.check(caller("auditor"), "members.write", None, PARENTS.get)
    roles.check(caller("auditor"), "audit.view", None, PARENTS.get)
    with pytest.raises(roles.Denied):
        roles.check(caller("township_staff", 2), "audit.view", None, PARENTS.get)
    roles.check(caller("township_staff", 2), "newservice.read", 3, PARENTS.get)
    assert roles.permissions_of("township_staff", ["members.read", "org.write"]) == \
        {"members.read"}
    assert "anything.at_all" in roles.permissions_of("county_admin")


def test_access_tokens_expire_and_cannot_be_forged():
    token, claims = tokens.issue_access("k" * 40, "admin", "user", "county_admin", None, 15, NOW)
    assert tokens.read_access("k" * 40, token, NOW + timedelta(minutes=14))["sub"] == "admin"
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.read_access("k" * 40, token, NOW + timedelta(minutes=15))
    with pytest.raises(Unauthenticated, match="not valid"):
        tokens.read_access("x" * 40, token, NOW)
    with pytest.raises(Unauthenticated):
        tokens.read_access("k" * 40, token[:-2] + "AA", NOW)


def test_passwords_are_salted_hashes_and_weak_ones_refused():
    stored = passwords.hash_password("correct horse battery")
    assert stored != passwords.hash_password("correct horse battery")
    assert passwords.verify(stored, "correct horse battery")
    assert not passwords.verify(stored, "correct horse batterY")
    assert not passwords.verify("not a hash", "x")
    for weak in ("short", "aaaaaaaaaaaaaa", " padded password "):
        with pytest.raises(InvalidInput):
            passwords.check_strength(weak)


def test_login_limits_count_names_and_addresses():
    limits = ratelimit.LoginLimits(max_failures=3, window_seconds=900)
    assert ratelimit.retry_after(2, 5, 100, limits) is None
    assert ratelimit.retry_after(3, 0, 100, limits) == 800
    assert ratelimit.retry_after(0, 12, 899.5, limits) == 1


class Body(Schema):
    name = fields.String(required=True)


ROUTE = Route("POST", "/units/<int:unit_id>/things", "add_thing", "Add", body=Body,
              query={"kind": fields.String()}, permission="org.write", unit="path:unit_id")
SPREAD = Route("POST", "/things", "add", "Add", body=Body, body_arg=None, permission="x.y",
               unit="body:name")
PAGED = Route("GET", "/things", "list_things", "List", paged=True, permission="x.y")


def test_arguments_come_from_path_query_and_body_validated_by_the_route():
    built = arguments.build(ROUTE, {"unit_id": 3}, MultiDict({"kind": "a"}), b'{"name": "n"}')
    assert built == {"unit_id": 3, "kind": "a", "payload": {"name": "n"}}
    assert arguments.unit_of(ROUTE, built) == 3
    assert arguments.build(SPREAD, {}, MultiDict(), b'{"name": "n"}') == {"name": "n"}
    assert arguments.build(PAGED, {}, MultiDict(), b"") == {"offset": 0, "limit": 50}


@pytest.mark.parametrize("query,body,field", [
    ({"kind": ["a", "b"]}, b'{"name": "n"}', "kind"),
    ({"colour": "red"}, b'{"name": "n"}', "colour"),
    ({}, b'{"name": "n", "extra": 1}', "extra"),
    ({}, b'{"name": 5}', "name"),
    ({}, b"not json", "_body"),
    ({}, b"[1, 2]", "_body"),
    ({}, b"\xff\xfe", "_body"),
])
def test_bad_requests_name_the_field(query, body, field):
    with pytest.raises(BadRequest) as refused:
        arguments.build(ROUTE, {"unit_id": 3}, MultiDict(query), body)
    assert field in refused.value.fields


def test_paging_is_bounded():
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"offset": "-1"}, {"limit": "ten"}):
        with pytest.raises(BadRequest):
            arguments.build(PAGED, {}, MultiDict(bad), b"")


@pytest.mark.parametrize("exc,status", [
    (BadRequest({"a": ["x"]}), 400), (InvalidInput({"a": ["x"]}), 422), (NotFound("x"), 404),
    (Conflict("x"), 409), (roles.Denied("x"), 403), (Unauthenticated("x"), 401),
    (http_errors.TooManyAttempts(30), 429), (RpcTimeout("x"), 503),
    (RemoteError("KeyError", "secret internals"), 500), (KeyError("boom"), 500)])
def test_each_failure_has_its_status_and_no_internals_leak(exc, status):
    got, body, headers = http_errors.describe(exc, "req-1", "members")
    assert got == status and body["request_id"] == "req-1"
    assert "internals" not in body["message"] and "boom" not in body["message"]
    if status in (400, 422):
        assert body["fields"] == {"a": ["x"]}
    if status in (429, 503):
        assert int(headers["Retry-After"]) > 0


def test_openapi_paths_and_parameters_from_werkzeug_rules():
    path, parameters = openapi.openapi_path("/stars/<any(member, branch):kind>/<int:id>/score")
    assert path == "/api/v1/stars/{kind}/{id}/score"
    assert parameters[0]["schema"]["enum"] == ["member", "branch"]
    assert parameters[1]["schema"] == {"type": "integer"}


def test_exports_keep_formulas_as_text_and_read_back():
    import csv
    import io

    from openpyxl import load_workbook

    from services.gateway import exports
    items = [{"name": "=HYPERLINK(\"http://x\")", "n": 1, "note": "-2+3", "ok": True},
             {"name": "王建国", "n": 2, "extra": {"a": 1}}]
    text = exports.to_csv(items).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "n", "note", "ok", "extra"]
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")" and rows[1][2] == "'-2+3"
    assert rows[2][0] == "王建国" and rows[2][4] == '{"a": 1}'
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(items))).active
    values = list(sheet.values)
    assert values[1][0].startswith("'=") and values[2][1] == 2
    with pytest.raises(ValueError):
        exports.render({"not": "a list"}, "csv", "x")


def test_the_openapi_document_of_every_installed_service_is_plain_json_numbers_included():
    import json

    from services.gateway import own, routing
    from shared import plugins
    document = openapi.build(routing.service_routes(plugins.services()),
                             own.OwnOperations().described(), "test")
    text = json.dumps(document)                 # no Decimal, no set: plain JSON as served
    bounds = re.findall(r'"(?:minimum|maximum)": ("?)[^,}]*', text)
    assert bounds and not any(quoted for quoted in bounds)
