"""The tickets and talent services' routes (``services/<name>/api.py``) through the running
gateway, with members and stars beside them, on the real RabbitMQ, on PostgreSQL.

A township staff member opens, accepts, resolves and rates a ticket and is refused what lies
outside their township; who acted comes from the login; an auditor reads the reserve shortlist
and the first secretary coverage; every role against every route of tickets and talent is 403
exactly when the role does not grant the route's permission."""
import re

import pytest
import requests
from sqlalchemy import select

from gateway_http import county, running_gateway
from services.gateway.roles import COUNTY_WIDE, ROLES
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService
from services.talent import models as talent_models
from services.talent.api import ROUTES as TALENT
from services.talent.service import TalentService
from services.tickets import models as tickets_models
from services.tickets.api import ROUTES as TICKETS
from services.tickets.service import TicketsService
from shared.api import granted
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
CLASSES = (MembersService, StarsService, TicketsService, TalentService, GatewayService)
ROUTES = [route for route in (*TICKETS, *TALENT) if route.permission is not None]
CERTIFICATE = {"code": "certificate", "name": "开具村级证明", "group": "村务",
               "lowest_level": "village", "time_limit_days": 2, "documents": ["居民身份证"]}


@pytest.fixture
def api(amqp_uri, pg_url_factory):
    """members + stars + tickets + talent + gateway running; the client as ``gateway_http``'s,
    with ``urls`` (each service's database)."""
    with running_gateway(amqp_uri, pg_url_factory, CLASSES) as client:
        yield client


def learned(api, cls, model, ids):
    """Whether the service ``cls`` has learned the rows ``ids`` of ``model`` (units, members)
    from the members service's events."""
    store = cls.store.handle(api.urls[cls.name], source=cls.name)
    with store.reading() as session:
        return set(ids) <= set(session.scalars(select(model.id).where(model.id.in_(ids))))


def the_county(api):
    """The county of ``gateway_http.county``, known to tickets and talent as well."""
    city, town, village, other = county(api)
    ids = [unit["id"] for unit in (city, town, village, other)]
    wait_for(lambda: learned(api, TicketsService, tickets_models.Unit, ids),
             message="tickets learning the org tree")
    wait_for(lambda: learned(api, TalentService, talent_models.Unit, ids),
             message="talent learning the org tree")
    return city, town, village, other


def as_user(api, username, role, unit_id=None):
    api.user(username, role, unit_id)
    assert api.login(username).status_code == 200


def test_a_township_clerk_handles_a_ticket_inside_their_township_only(api):
    as_user(api, "admin", "county_admin")
    city, town, village, other = the_county(api)
    assert api.post("/api/v1/catalogue", CERTIFICATE).status_code == 200
    stations = {}
    for unit in (city, town, village, other):
        answer = api.post("/api/v1/stations", {"unit_id": unit["id"]})
        assert answer.status_code == 201, answer.text
        stations[unit["id"]] = answer.json()

    as_user(api, "clerk", "township_staff", town["id"])
    assert api.post("/api/v1/catalogue", {**CERTIFICATE, "name": "x"}).status_code == 403
    opened = api.post("/api/v1/tickets", {"service_point_id": stations[village["id"]]["id"],
                                          "matter_code": "certificate",
                                          "requester_name": "刘大爷"})
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert (ticket["status"], ticket["township_id"]) == ("open", town["id"])
    path = f"/api/v1/tickets/{ticket['id']}"

    # the body is checked by the gateway: each field at fault named; "by" is the login's
    refused = api.post(path + "/rate", {"rating": 9, "by": "someone else", "colour": "red"})
    assert refused.status_code == 400
    assert set(refused.json()["fields"]) == {"rating", "by", "colour"}
    assert api.post(path + "/resolve", {"outcome": "证明已开具"}).status_code == 409

    assert api.post(path + "/accept", {}).json()["status"] == "accepted"
    assert api.post(path + "/resolve", {"outcome": "证明已开具"}).json()["status"] == "resolved"
    rated = api.post(path + "/rate", {"rating": 5, "comment": "办得快"})
    assert rated.status_code == 200 and rated.json()["rating"] == 5
    detail = api.get(path).json()
    assert [(c["action"], c["by"]) for c in detail["history"]] == [
        ("open", "clerk"), ("accept", "clerk"), ("resolve", "clerk"), ("rate", "clerk")]

    listed = api.get("/api/v1/tickets", unit_id=town["id"], limit=10)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]
    assert listed.json()["next_offset"] is None
    outside = api.get("/api/v1/tickets", unit_id=other["id"])
    assert outside.status_code == 403 and "outside your scope" in outside.json()["message"]
    unnamed = api.get("/api/v1/tickets")
    assert unnamed.status_code == 403 and "unit_id: name a unit" in unnamed.json()["message"]
    assert api.get("/api/v1/stations", township_id=other["id"]).status_code == 403
    today = detail["opened_on"]
    measured = api.get(f"/api/v1/tickets/measures/township/{town['id']}",
                       date_from=today, date_to=today)
    assert measured.status_code == 200, measured.text
    assert measured.json()["scope_id"] == town["id"]
    assert api.get(f"/api/v1/tickets/measures/township/{other['id']}", date_from=today,
                   date_to=today).status_code == 403
    assert api.post("/api/v1/stations", {"unit_id": village["id"]}).status_code == 403


def test_talent_reads_for_an_auditor_and_writes_inside_the_scope(api):
    as_user(api, "admin", "county_admin")
    city, town, village, other = the_county(api)
    member = api.post("/api/v1/members", {
        "name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
        "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full",
        "branch_id": village["id"]})
    assert member.status_code == 201, member.text
    member_id = member.json()["id"]
    wait_for(lambda: learned(api, TalentService, talent_models.Member, [member_id]),
             message="talent learning the member")
    secretary = api.post("/api/v1/talent/cadres", {
        "name": "王建国", "gender": "male", "birth_date": "1980-05-17",
        "education": "bachelor", "member_id": member_id, "experience_years": 12})
    assert secretary.status_code == 201, secretary.text
    appointed = api.post("/api/v1/talent/posts", {
        "cadre_id": secretary.json()["id"], "role": "township_secretary", "unit_id": town["id"],
        "started_on": "2026-01-05", "reason": "换届选举"})
    assert appointed.status_code == 201, appointed.text
    votes = api.post("/api/v1/talent/assessments/votes", {
        "cadre_id": secretary.json()["id"], "year": 2026, "excellent": 30, "good": 10,
        "fair": 2, "poor": 0})
    assert votes.status_code == 200, votes.text
    assert votes.json()["entered_by"] == "admin"

    as_user(api, "clerk", "township_staff", town["id"])
    candidate = api.post("/api/v1/talent/cadres", {
        "name": "李秀英", "gender": "female", "birth_date": "1990-03-02",
        "education": "associate", "standing": "activist", "experience_years": 4,
        "unit_id": village["id"]})
    assert candidate.status_code == 201, candidate.text
    entry = {"cadre_id": candidate.json()["id"], "township_id": town["id"],
             "village_id": village["id"], "added_on": "2026-03-01"}
    refused = api.post("/api/v1/talent/reserve", {**entry, "township_id": other["id"]})
    assert refused.status_code == 403 and "outside your scope" in refused.json()["message"]
    assert api.post("/api/v1/talent/reserve", entry).status_code == 201
    assert api.post("/api/v1/talent/assessments/votes", {
        "cadre_id": secretary.json()["id"], "year": 2026, "excellent": 1, "good": 0, "fair": 0,
        "poor": 0}).status_code == 403

    as_user(api, "auditor1", "auditor")
    shortlist = api.get(f"/api/v1/talent/villages/{village['id']}/shortlist")
    assert shortlist.status_code == 200, shortlist.text
    found = shortlist.json()
    assert found["vacancy"]["village_id"] == village["id"] and found["considered"] == 1
    assert [c["cadre_id"] for c in found["shortlist"] + found["ranked_below"]
            + found["excluded"]] == [candidate.json()["id"]]
    coverage = api.get("/api/v1/talent/first-secretaries/coverage")
    assert coverage.status_code == 200, coverage.text
    assert coverage.json()["villages"] == 1 and coverage.json()["covered"] == 0
    pool = api.get("/api/v1/talent/reserve", township_id=town["id"])
    assert pool.status_code == 200 and pool.json()["total"] == 1
    assert api.post("/api/v1/talent/reserve", entry).status_code == 403


# -- every role against every route -------------------------------------------------------------

def concrete(path, unit_id):
    path = re.sub(r"<any\(([^,)]+)[^)]*\):\w+>", r"\1", path)
    path = re.sub(r"<int:\w+>", str(unit_id), path)
    return "/api/v1" + re.sub(r"<\w+>", "certificate", path)


def call(api, route, unit_id, token, listed_unit=None):
    """The route called with ``unit_id`` for every id in its path; a list filtered by unit
    (``unit="query:NAME"``) is asked for ``listed_unit``, as a scoped caller must."""
    params = None
    if listed_unit is not None and route.unit and route.unit.startswith("query:"):
        params = {route.unit.partition(":")[2]: listed_unit}
    return requests.request(route.method, api.base + concrete(route.path, unit_id),
                            json={} if route.body is not None else None, params=params,
                            headers={"Authorization": f"Bearer {token}"}, timeout=15)


def test_every_role_against_every_tickets_and_talent_route(api):
    as_user(api, "admin", "county_admin")
    city, town, village, other = the_county(api)
    tokens = {}
    for role in ROLES:
        as_user(api, f"u-{role}", role, None if role in COUNTY_WIDE else town["id"])
        tokens[role] = api.token
    document = api.get("/api/v1/openapi.json").json()
    assert {"/api/v1/tickets/{ticket_id}/accept", "/api/v1/stations",
            "/api/v1/talent/villages/{village_id}/shortlist"} <= set(document["paths"])
    assert "by" not in document["components"]["schemas"]["TicketRateBody"]["properties"]
    wrong = []
    for route in ROUTES:
        for role, token in tokens.items():
            status = call(api, route, village["id"], token, town["id"]).status_code
            allowed = granted(ROLES[role], route.permission)
            if (status == 403) == allowed or status in (401, 500):
                wrong.append(f"{role} {route.method} {route.path}: {status}")
    assert not wrong, "\n".join(wrong)

    scoped = [route for route in ROUTES if route.unit and route.unit.startswith("path:")]
    assert scoped
    for route in scoped:
        for role, token in tokens.items():
            if not granted(ROLES[role], route.permission):
                continue
            inside = call(api, route, village["id"] if "village" in route.unit
                          else town["id"], token).status_code
            outside = call(api, route, other["id"], token).status_code
            if inside == 403 or (outside == 403) == (role in COUNTY_WIDE):
                wrong.append(f"{role} {route.method} {route.path}: inside {inside}, "
                             f"outside {outside}")
    assert not wrong, "\n".join(wrong)
