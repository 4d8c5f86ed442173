"""The HTTP API through the gateway, against members and stars running on the real RabbitMQ,
on PostgreSQL and SQLite."""
import pytest
import requests

from gateway_http import county, running_gateway
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService

pytestmark = pytest.mark.integration


@pytest.fixture
def api(amqp_uri, db_url_factory):
    """members + stars + gateway, on PostgreSQL and on SQLite (as ``make run`` has them)."""
    with running_gateway(amqp_uri, db_url_factory,
                         (MembersService, StarsService, GatewayService)) as client:
        yield client


def test_login_scopes_errors_and_request_ids_over_http(api):
    api.user("admin", "county_admin")
    assert api.get("/api/v1/townships").status_code == 401
    assert api.login("admin", "wrong password").status_code == 401
    assert api.login("admin").status_code == 200
    city, town, village, other = county(api)

    refused = api.post("/api/v1/org-units", {"name": "", "kind": "nowhere", "parent_id": "x",
                                             "extra": 1})
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"name", "kind", "parent_id", "extra"}
    assert refused.headers["X-Request-Id"] == refused.json()["request_id"]

    second_root = api.post("/api/v1/org-units", {"name": "另一个市委", "kind": "city_committee",
                                                 "parent_id": None})
    assert second_root.status_code == 422 and "parent_id" in second_root.json()["fields"]
    assert api.get("/api/v1/org-units/999999").status_code == 404
    assert api.get("/api/v1/no-such-thing").status_code == 404
    assert requests.delete(api.base + "/api/v1/townships", headers=api.headers(),
                           timeout=5).status_code == 405

    # the township staff member sees their township, not the other one
    api.user("clerk", "township_staff", town["id"])
    assert api.login("clerk").status_code == 200
    assert api.get(f"/api/v1/org-units/{village['id']}").status_code == 200
    outside = api.get(f"/api/v1/org-units/{other['id']}")
    assert outside.status_code == 403 and "outside your scope" in outside.json()["message"]
    assert api.post("/api/v1/org-units", {"name": "x村党支部", "kind": "village_branch",
                                          "parent_id": town["id"]}).status_code == 403

    traced = api.get("/api/v1/townships")
    assert traced.status_code == 200 and len(traced.json()) == 2
    assert requests.get(api.base + "/api/v1/townships", timeout=5,
                        headers={**api.headers(), "X-Request-Id": "trace-42"}
                        ).headers["X-Request-Id"] == "trace-42"


def test_writes_are_idempotent_by_key_and_audited(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    body = {"name": "后辛庄村党支部", "kind": "village_branch", "parent_id": town["id"]}
    first = api.post("/api/v1/org-units", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/org-units", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    changed = api.post("/api/v1/org-units", {**body, "name": "别的"},
                       headers={"Idempotency-Key": "k-1"})
    assert changed.status_code == 409
    api.user("auditor1", "auditor")
    api.login("auditor1")
    log = api.get("/api/v1/audit", actor="admin", limit=100).json()
    actions = [entry["action"] for entry in log["items"]]
    assert actions.count("members.create_org_unit") >= 6
    assert all(entry["actor"] == "admin" for entry in log["items"])
    assert requests.delete(api.base + "/api/v1/audit", headers=api.headers(),
                           timeout=5).status_code == 405


def test_tokens_refresh_once_logout_revokes_and_logins_are_rate_limited(api):
    api.user("admin", "county_admin")
    pair = api.login("admin").json()
    renewed = api.post("/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200
    reused = api.post("/api/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert reused.status_code == 401 and "used before" in reused.json()["message"]
    # the reuse revoked the renewed pair's refresh token too
    assert api.post("/api/v1/auth/refresh", {"refresh_token": renewed.json()["refresh_token"]}
                    ).status_code == 401
    api.token = renewed.json()["access_token"]
    assert api.get("/api/v1/me").json()["role"] == "county_admin"
    assert api.post("/api/v1/auth/logout", {}).status_code == 200
    assert api.get("/api/v1/me").status_code == 401

    api.token = None
    for _ in range(3):
        assert api.login("admin", "wrong password").status_code == 401
    locked = api.login("admin")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_public_boards_openapi_docs_readiness_and_metrics(api):
    assert api.get("/api/v1/boards/member", period="2026-11", scope_kind="county"
                   ).status_code == 200
    document = api.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/members/{member_id}" in document["paths"]
    assert "MemberInput" in document["components"]["schemas"]
    assert "text/html" in api.get("/api/v1/docs").headers["Content-Type"]
    ready = api.get("/ready")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["services"]) == {"members", "stars", "gateway"}
    text = api.get("/metrics").text
    assert 'jiceng_service_up{service="members"} 1.0' in text
    assert "jiceng_http_requests_total" in text



def test_a_roster_exports_as_csv_and_xlsx_with_formulas_kept_as_text(api):
    import csv
    import io

    from openpyxl import load_workbook
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    member = {"name": "=1+2", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
              "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full",
              "branch_id": village["id"]}
    created = api.post("/api/v1/members", member)
    assert created.status_code == 201, created.text
    path = f"/api/v1/branches/{village['id']}/members"
    as_csv = api.get(path, format="csv")
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "branch_id", "name"] and len(rows) == 2
    assert rows[1][2] == "'=1+2"
    as_xlsx = api.get(path, format="xlsx")
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert [row[2] for row in sheet.values][1] == rows[1][2]
    assert api.get(path, format="pdf").status_code == 400
    assert api.get("/api/v1/townships", format="csv").status_code == 400


def test_resident_ids_are_masked_unless_the_role_may_see_them(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    member = {"name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
              "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full",
              "branch_id": village["id"]}
    created = api.post("/api/v1/members", member).json()
    assert created["resident_id"] == "13098319800517011X"          # county_admin: "*"
    api.user("clerk", "township_staff", town["id"])
    api.login("clerk")
    seen = api.get(f"/api/v1/members/{created['id']}").json()
    assert seen["resident_id"] != "13098319800517011X" and "*" in seen["resident_id"]
