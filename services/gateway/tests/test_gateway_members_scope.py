"""The members routes through the running gateway for a village cadre: their own village's
members are theirs (a roster sheet, an activity, a read), every other village's are refused
with 403 by the members service itself (the gateway cannot see whose a member is); the roster
template and the township list stay open. Real RabbitMQ and PostgreSQL."""
import base64
from datetime import date, timedelta

import pytest

from gateway_http import api, county  # noqa: F401  (fixture)
from services.members import resident_id, roster

pytestmark = pytest.mark.integration
BORN = date(1980, 5, 17)
DAY = (date.today() - timedelta(days=2)).isoformat()


def roster_sheet(*numbers):
    rows = [",".join(roster.COLUMNS)] + [
        f"党员{n},男,汉族,{BORN},{resident_id.make('130983', BORN, n, 'male')},,,2005-07-01,"
        "正式党员," for n in numbers]
    return {"filename": "名册.csv",
            "content_base64": base64.b64encode("\r\n".join(rows).encode()).decode()}


def as_user(api, username, role, unit_id=None):
    api.user(username, role, unit_id)
    assert api.login(username).status_code == 200


def test_a_village_cadre_works_on_their_village_only(api):
    as_user(api, "admin", "county_admin")
    city, town, village, other = county(api)
    far = api.post("/api/v1/org-units", {"name": "歧口村党支部", "kind": "village_branch",
                                         "parent_id": other["id"]}).json()
    far_member = api.post(f"/api/v1/branches/{far['id']}/member-sheets", roster_sheet(9))
    assert far_member.status_code == 201, far_member.text
    far_id = far_member.json()["member_ids"][0]

    as_user(api, "cadre", "village_cadre", village["id"])
    imported = api.post(f"/api/v1/branches/{village['id']}/member-sheets", roster_sheet(1, 2))
    assert imported.status_code == 201, imported.text
    mine = imported.json()["member_ids"]
    assert api.get(f"/api/v1/members/{mine[0]}").json()["branch_id"] == village["id"]
    recorded = api.post("/api/v1/activities", {"member_id": mine[1], "kind": "study",
                                               "occurred_on": DAY, "attended": True})
    assert recorded.status_code == 201, recorded.text

    outside = f"organisation unit {far['id']} is outside your scope (unit {village['id']})"
    for answer in (
            api.get(f"/api/v1/members/{far_id}"),
            api.get(f"/api/v1/members/{far_id}/history"),
            api.post("/api/v1/activities", {"member_id": far_id, "kind": "study",
                                            "occurred_on": DAY, "attended": True}),
            api.post("/api/v1/departures", {"member_id": far_id, "reason": "withdrew",
                                            "on": DAY}),
            api.post(f"/api/v1/branches/{far['id']}/member-sheets", roster_sheet(3))):
        assert answer.status_code == 403, answer.text
        assert outside in answer.json()["message"]

    template = api.get("/api/v1/member-sheet-template")
    assert template.status_code == 200
    assert base64.b64decode(template.json()).decode("utf-8-sig").strip() == ",".join(roster.COLUMNS)
    assert [t["id"] for t in api.get("/api/v1/townships").json()] == [town["id"], other["id"]]

    refused = api.post(f"/api/v1/branches/{village['id']}/member-sheets", roster_sheet(4, 1))
    assert refused.status_code == 422
    assert refused.json()["fields"] == {"row 3.resident_id": [
        f"already registered (member {mine[0]})"]}
    listed = api.get(f"/api/v1/branches/{village['id']}/members")
    assert [m["id"] for m in listed.json()["items"]] == mine
