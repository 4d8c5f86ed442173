"""The affairs service's routes (``services/affairs/api.py``) through the running gateway, with
members (the organisation tree) beside them, on the real RabbitMQ, on PostgreSQL.

A village cadre proposes a matter and walks its steps over HTTP; who acted is the login; the
gateway names each field at fault; another village's matter is 403, a missing one 404; the list
is paged and stays inside the cadre's village; the supervision committee signs off what the
cadre may not; a village's hash chain is public; every role against every route is 403
exactly when the role does not grant the route's permission."""
import re
from datetime import date, timedelta

import pytest
import requests
from sqlalchemy import select

from gateway_http import county, known_units, running_gateway
from services.affairs import models as affairs_models
from services.affairs.api import ROUTES
from services.affairs.service import AffairsService
from services.gateway.roles import COUNTY_WIDE, ROLES
from services.gateway.service import GatewayService
from services.members.service import MembersService
from shared.api import granted
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
CLASSES = (MembersService, AffairsService, GatewayService)
MATTERS = "/api/v1/affairs/matters"


@pytest.fixture
def api(amqp_uri, pg_url_factory, tmp_path):
    """members + affairs + gateway running; the client as ``gateway_http``'s, with ``urls``."""
    evidence = {"affairs": {"evidence": {"folder": str(tmp_path / "evidence")}}}
    with running_gateway(amqp_uri, pg_url_factory, CLASSES, evidence) as client:
        yield client


def ago(days):
    return (date.today() - timedelta(days=days)).isoformat()


def meeting(members, present, votes_for):
    return {"attendance": {"members": members, "present": present},
            "votes": {"for": votes_for, "against": 0, "abstain": 0}}


def proposal(branch_id, **changes):
    return {"branch_id": branch_id, "item": "major_spending", "title": "村内主街道硬化",
            "amount": "86000.00", "proposed_on": ago(20), **meeting(5, 5, 5), **changes}


def as_user(api, username, role, unit_id=None):
    api.user(username, role, unit_id)
    assert api.login(username).status_code == 200


def the_county(api):
    """``gateway_http.county`` plus a second village in the town and one in the other
    township, all known to affairs."""
    city, town, village, other = county(api)
    neighbour = api.post("/api/v1/org-units", {"name": "后辛庄村党支部", "kind": "village_branch",
                                               "parent_id": town["id"]}).json()
    far = api.post("/api/v1/org-units", {"name": "赵家堡村党支部", "kind": "village_branch",
                                         "parent_id": other["id"]}).json()
    ids = [unit["id"] for unit in (city, town, village, other, neighbour, far)]
    store = AffairsService.store.handle(api.urls["affairs"], source="affairs")

    def learned():
        with store.reading() as session:
            return set(ids) <= set(session.scalars(select(affairs_models.Unit.id)))
    wait_for(learned, message="affairs learning the org tree")
    wait_for(lambda: known_units(api, 6), message="the gateway learning the org tree")
    return town, village, neighbour, far


def test_a_village_cadre_walks_a_matter_over_http_inside_their_village(api):
    as_user(api, "admin", "county_admin")
    town, village, neighbour, far = the_county(api)
    theirs = api.post(MATTERS, proposal(neighbour["id"]))
    assert theirs.status_code == 201, theirs.text

    as_user(api, "cadre", "village_cadre", village["id"])
    refused = api.post(MATTERS, proposal(village["id"], recorded_by="someone else", title="",
                                         proposed_on="2999-01-01"))
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"recorded_by", "title", "proposed_on"}
    outside = api.post(MATTERS, proposal(far["id"]))
    assert outside.status_code == 403 and "outside your scope" in outside.json()["message"]

    proposed = api.post(MATTERS, proposal(village["id"]))
    assert proposed.status_code == 201, proposed.text
    matter = proposed.json()
    assert (matter["branch_id"], matter["township_id"]) == (village["id"], town["id"])
    assert matter["recorded_by"] == "cadre" and matter["next_step"] == "joint_meeting"
    path = f"{MATTERS}/{matter['id']}"
    for step, days in (("joint_meeting", 18), ("party_assembly", 16)):
        walked = api.post(path + "/steps", {"step": step, "on": ago(days),
                                            **meeting(40, 30, 25)})
        assert walked.status_code == 200, walked.text
    assert walked.json()["next_step"] == "villagers_assembly"
    assert [s["recorded_by"] for s in walked.json()["steps"]] == ["cadre"] * 3
    skipped = api.post(path + "/steps", {"step": "execution", "on": ago(1)})
    assert skipped.status_code == 409
    unknown_form = api.post(path + "/steps", {"step": "villagers_assembly", "on": ago(14),
                                              "form": "tea_party", **meeting(45, 31, 27)})
    assert unknown_form.status_code == 422 and "form" in unknown_form.json()["fields"]
    bad_votes = api.post(path + "/steps", {"step": "villagers_assembly", "on": ago(14),
                                           "attendance": {"members": 45, "present": 50}})
    assert bad_votes.status_code == 400 and "attendance.present" in bad_votes.json()["fields"]

    assert api.get(path).json()["id"] == matter["id"]
    other_path = f"{MATTERS}/{theirs.json()['id']}"
    assert api.get(other_path).status_code == 403
    foreign = api.post(other_path + "/steps", {"step": "joint_meeting", "on": ago(18),
                                               **meeting(9, 8, 7)})
    assert foreign.status_code == 403 and str(neighbour["id"]) in foreign.json()["message"]
    assert api.get(f"{MATTERS}/{theirs.json()['id'] + 1000}").status_code == 404
    assert api.post(f"{MATTERS}/{theirs.json()['id'] + 1000}/progress",
                    {"on": ago(1), "percent": 5, "note": "开工"}).status_code == 404

    second = api.post(MATTERS, proposal(village["id"], title="村委会办公室维修",
                                        amount="12000.00")).json()
    first_page = api.get(MATTERS, limit=1)
    assert first_page.status_code == 200, first_page.text
    assert [m["id"] for m in first_page.json()["items"]] == [matter["id"]]
    assert first_page.json()["next_offset"] == 1
    rest = api.get(MATTERS, offset=1, limit=5).json()
    assert [m["id"] for m in rest["items"]] == [second["id"]] and rest["next_offset"] is None
    assert api.get(MATTERS, status="deliberating").json()["items"][0]["id"] == matter["id"]
    assert api.get(MATTERS, status="lost").status_code == 400
    assert api.get(MATTERS, branch_id=neighbour["id"]).status_code == 403
    assert api.get(MATTERS, township_id=town["id"]).status_code == 403
    assert api.get("/api/v1/affairs/counts").json()["totals"]["total"] == 2

    assert api.post(path + "/sign-offs", {"step": "proposal", "on": ago(1)}).status_code == 403
    as_user(api, "jiandu", "supervisor", village["id"])
    signed = api.post(path + "/sign-offs", {"step": "proposal", "on": ago(1)})
    assert signed.status_code == 201, signed.text
    assert signed.json()["signed_by"] == "jiandu"
    assert api.post(path + "/steps", {"step": "villagers_assembly", "on": ago(14),
                                      **meeting(45, 31, 27)}).status_code == 403
    assert api.post(other_path + "/sign-offs",
                    {"step": "proposal", "on": ago(1)}).status_code == 403

    chain = requests.get(f"{api.base}/api/v1/affairs/villages/{village['id']}/chain", timeout=15)
    assert chain.status_code == 200 and chain.json()["holds"] is True
    document = api.get("/api/v1/openapi.json").json()
    assert {"/api/v1/affairs/matters", "/api/v1/affairs/matters/{matter_id}/steps"} \
        <= set(document["paths"])
    assert "recorded_by" not in document["components"]["schemas"]["ProposeMatterBody"][
        "properties"]


def test_every_role_against_every_affairs_route(api):
    as_user(api, "admin", "county_admin")
    town, village, neighbour, far = the_county(api)
    tokens = {}
    for role in ROLES:
        as_user(api, f"u-{role}", role, None if role in COUNTY_WIDE else village["id"])
        tokens[role] = api.token
    wrong = []
    for route in ROUTES:
        path = "/api/v1" + re.sub(r"<int:\w+>", str(village["id"]), route.path)
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            status = requests.request(route.method, api.base + path, headers=headers,
                                      json={} if route.body is not None else None,
                                      timeout=15).status_code
            allowed = route.permission is None or granted(ROLES[role], route.permission)
            if (status == 403) == allowed or status in (401, 500):
                wrong.append(f"{role} {route.method} {route.path}: {status}")
    assert not wrong, "\n".join(wrong)
