"""Each role against each endpoint, inside and outside its scope, through the running gateway.

Permissions: every route of members and stars is called by every role; the answer is 403 when
the role does not grant the route's permission and anything else (the call may still be refused
for its input: 400, 404, 422) when it does. Scopes: every route whose unit is in the path is
called for a unit inside and one outside the caller's township."""
import re

import pytest
import requests

from gateway_http import api, county  # noqa: F401  (fixture)
from services.gateway.roles import COUNTY_WIDE, ROLES
from shared.api import granted
from services.members.api import ROUTES as MEMBERS
from services.stars.api import ROUTES as STARS

pytestmark = pytest.mark.integration
ROUTES = [route for route in (*MEMBERS, *STARS) if route.permission is not None]


def concrete(path, unit_id):
    path = re.sub(r"<any\(([^,)]+)[^)]*\):\w+>", r"\1", path)
    return "/api/v1" + re.sub(r"<int:\w+>", str(unit_id), path)


def call(api, route, unit_id, token):
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(route.method, api.base + concrete(route.path, unit_id),
                            params={"period": "2026-11"} if route.method == "GET" else None,
                            json={} if route.body is not None else None, headers=headers,
                            timeout=15)


@pytest.fixture
def tokens(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    found = {}
    for role in ROLES:
        unit = None if role in COUNTY_WIDE else town["id"]
        api.user(f"u-{role}", role, unit)
        api.login(f"u-{role}")
        found[role] = api.token
    return found, village["id"], other["id"]


def test_every_role_against_every_endpoint(api, tokens):
    by_role, inside, outside = tokens
    wrong = []
    for route in ROUTES:
        for role, token in by_role.items():
            status = call(api, route, inside, token).status_code
            allowed = granted(ROLES[role], route.permission)
            if (status == 403) == allowed or status in (401, 500):
                wrong.append(f"{role} {route.method} {route.path}: {status}")
    assert not wrong, "\n".join(wrong)


def test_scoped_roles_stop_at_their_township(api, tokens):
    by_role, inside, outside = tokens
    scoped = [route for route in ROUTES if route.unit and route.unit.startswith("path:")]
    assert scoped
    wrong = []
    for route in scoped:
        for role, token in by_role.items():
            if not granted(ROLES[role], route.permission):
                continue
            in_status = call(api, route, inside, token).status_code
            out_status = call(api, route, outside, token).status_code
            expect_out = 200 if role in COUNTY_WIDE else 403
            if in_status == 403 or (out_status == 403) != (expect_out == 403):
                wrong.append(f"{role} {route.method} {route.path}: inside {in_status}, "
                             f"outside {out_status}")
    assert not wrong, "\n".join(wrong)


def test_a_body_unit_outside_the_scope_is_refused(api, tokens):
    by_role, inside, outside = tokens
    api.token = by_role["township_staff"]
    member = {"name": "王建国", "gender": "male", "ethnicity": "汉族",
              "birth_date": "1980-05-17", "resident_id": "13098319800517011X",
              "join_date": "2005-07-01", "status": "full", "branch_id": outside}
    refused = api.post("/api/v1/members", member)
    assert refused.status_code == 403 and "outside your scope" in refused.json()["message"]


def test_the_services_refuse_a_gateway_call_the_role_does_not_allow(api):
    """A permission the gateway forgot to check is still refused by the service."""
    from shared.bus.rpc import rpc_client
    from shared.errors import Forbidden
    cadre = {"role": "village_cadre", "user": "c", "scope_unit_id": 3,
             "permissions": sorted(ROLES["village_cadre"])}
    with rpc_client(api.config, context_data=cadre) as cluster:
        with pytest.raises(Forbidden, match="org.write"):
            cluster.members.create_org_unit({"name": "x", "kind": "city_committee",
                                             "parent_id": None})
        with pytest.raises(Forbidden, match="stars.close"):
            cluster.stars.close_month("2026-10")
        with pytest.raises(Forbidden, match="not published over HTTP"):
            cluster.members.list_overdue_development()
        assert cluster.members.health()["status"] == "ok"
