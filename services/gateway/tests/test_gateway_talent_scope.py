"""Talent's scope over HTTP: township staff keep their township's cadres and training through
the running gateway (members, stars, talent, gateway on the real RabbitMQ and PostgreSQL)
and get 403 naming the unit for what lies outside it, whether the gateway sees it
(a unit in the body) or only the talent service can (the unit of a cadre or a training base)."""
import pytest
from sqlalchemy import select

from gateway_http import county, running_gateway
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService
from services.talent import models as talent_models
from services.talent.service import TalentService
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
CLASSES = (MembersService, StarsService, TalentService, GatewayService)
ACTIVIST = {"name": "李秀英", "gender": "female", "birth_date": "1990-03-02",
            "education": "associate", "standing": "activist", "experience_years": 4}


@pytest.fixture
def api(amqp_uri, pg_url_factory):
    with running_gateway(amqp_uri, pg_url_factory, CLASSES) as client:
        yield client


def talent_knows(api, ids):
    store = TalentService.store.handle(api.urls["talent"], source="talent")
    with store.reading() as session:
        found = session.scalars(select(talent_models.Unit.id)
                                .where(talent_models.Unit.id.in_(ids)))
        return set(ids) <= set(found)


def as_user(api, username, role, unit_id=None):
    api.user(username, role, unit_id)
    assert api.login(username).status_code == 200


def test_township_staff_keep_their_townships_cadres_and_training_only(api):
    as_user(api, "admin", "county_admin")
    city, town, village, other = county(api)
    wait_for(lambda: talent_knows(api, [u["id"] for u in (city, town, village, other)]),
             message="talent learning the org tree")
    far = api.post("/api/v1/talent/cadres", {**ACTIVIST, "name": "周敏", "unit_id": other["id"]})
    assert far.status_code == 201, far.text
    far_base = api.post("/api/v1/talent/training/bases", {"name": "南排河镇党校",
                                                          "location": "镇政府",
                                                          "township_id": other["id"]})
    assert far_base.status_code == 201, far_base.text
    course = api.post("/api/v1/talent/training/courses", {"title": "冬枣提质增效",
                                                          "mode": "field", "hours": "4.0"})
    assert course.status_code == 201 and course.json()["township_id"] is None, course.text

    as_user(api, "clerk", "township_staff", town["id"])
    unnamed = api.post("/api/v1/talent/cadres", ACTIVIST)
    assert unnamed.status_code == 403
    assert "unit_id: name a unit inside your scope" in unnamed.json()["message"]
    outside = api.post("/api/v1/talent/cadres", {**ACTIVIST, "unit_id": other["id"]})
    assert outside.status_code == 403 and "outside your scope" in outside.json()["message"]
    mine = api.post("/api/v1/talent/cadres", {**ACTIVIST, "unit_id": village["id"]})
    assert mine.status_code == 201 and mine.json()["unit_id"] == village["id"], mine.text
    changed = api.patch(f"/api/v1/talent/cadres/{mine.json()['id']}", {"experience_years": 5})
    assert changed.status_code == 200 and changed.json()["experience_years"] == 5, changed.text

    for refused in (api.get(f"/api/v1/talent/cadres/{far.json()['id']}"),
                    api.patch(f"/api/v1/talent/cadres/{far.json()['id']}",
                              {"experience_years": 9}),
                    api.post("/api/v1/talent/training/sessions", {
                        "course_id": course.json()["id"], "base_id": far_base.json()["id"],
                        "held_on": "2026-10-18"})):
        assert refused.status_code == 403, refused.text
        assert (f"organisation unit {other['id']} is outside your scope (unit {town['id']})"
                in refused.json()["message"])
    base = api.post("/api/v1/talent/training/bases", {"name": "旧城镇现场教学基地",
                                                      "location": "前辛庄村",
                                                      "township_id": town["id"]})
    assert base.status_code == 201, base.text
    held = api.post("/api/v1/talent/training/sessions", {
        "course_id": course.json()["id"], "base_id": base.json()["id"], "held_on": "2026-10-18"})
    assert held.status_code == 201, held.text
