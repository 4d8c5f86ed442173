"""Scope, checked by the talent service itself (``shared.scope``), on the real store (PostgreSQL
and SQLite): every write township staff may make and every by-id read of a cadre is answered
inside their township and refused outside it, naming the unit; what belongs to no unit is the
county's; the lists a village has a part of answer a village cadre its village's rows by
``unit_id``; calls from inside and county-wide callers are not limited."""

import pytest
from nameko.testing.services import worker_factory

from services.talent import directory
from services.talent.clock import FixedClock
from services.talent.models import Assessment
from services.talent.service import TalentService
from shared import db, migrate
from shared.errors import Forbidden, InvalidInput, NotFound
from talent_helpers import (CITY, DAY, FAR_VILLAGE, OTHER_TOWN, SETTINGS, TOWN,
                            county_events)
from tests.support import broker

TOWNSHIP_STAFF = {"role": "township_staff", "scope_unit_id": TOWN, "permissions": ["*.read",
                                                                                   "talent.write"]}
VILLAGE_CADRE = {"role": "village_cadre", "scope_unit_id": 12, "permissions": ["*.read"]}


def talent(url, context=None):
    return worker_factory(TalentService, store=TalentService.store.handle(url, context=context),
                          settings=SETTINGS, clock=FixedClock(DAY))


def activist(service, unit_id, name="李秀英"):
    return service.register_cadre({"name": name, "gender": "female", "birth_date": "1990-03-02",
                                   "education": "associate", "standing": "activist",
                                   "unit_id": unit_id})["id"]


def secretary(service, member_id, role, unit_id, started_on="2026-01-05"):
    cadre = service.register_cadre({"name": f"党员{member_id}", "gender": "male",
                                    "birth_date": "1975-04-01", "education": "bachelor",
                                    "member_id": member_id})["id"]
    post = service.appoint({"cadre_id": cadre, "role": role, "unit_id": unit_id,
                            "started_on": started_on, "reason": "换届选举"})["id"]
    return cadre, post


def side(service, township_id, village_id, member_ids):
    """One township's objects, built from inside: ``{name: id}``."""
    found = {}
    found["secretary"], _ = secretary(service, member_ids[0], "township_secretary", township_id)
    found["village_secretary"], found["post"] = secretary(service, member_ids[1],
                                                          "village_secretary", village_id)
    found["candidate"] = activist(service, village_id, "王芳")
    service.add_reserve_candidate({"cadre_id": found["candidate"], "township_id": township_id,
                                   "village_id": village_id, "added_on": "2026-03-01"})
    found["item"] = service.add_duty_item({
        "township_id": township_id, "list_kind": "responsibility", "title": "阵地建设",
        "owner": "张强", "deadline": "2026-12-20", "created_on": "2026-11-01"})["id"]
    found["project"] = service.add_party_project({"township_id": township_id,
                                                  "name": f"红色网格{township_id}",
                                                  "started_on": "2026-02-01"})["id"]
    base = service.add_training_base({"name": f"现场教学基地{township_id}", "location": "村部",
                                      "township_id": township_id})["id"]
    found["base"] = base
    course = service.add_course({"title": "冬枣提质增效", "mode": "field", "hours": "4.0"})["id"]
    found["course"] = course
    found["session"] = service.schedule_session({"course_id": course, "base_id": base,
                                                 "held_on": "2026-10-18"})["id"]
    found["leader"] = activist(service, village_id, "赵富")
    service.register_wealth_leader({"cadre_id": found["leader"], "village_id": village_id,
                                    "industry": "冬枣", "since": "2020-01-01"})
    found["shop"] = service.add_online_shop({"leader_id": found["leader"], "platform": "拼多多",
                                             "name": f"枣乡小店{township_id}"})["id"]
    return found


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def county(request, tmp_path_factory):
    """A county built from inside once per database: ``(url, inside, outside, county_kept)``,
    ``inside`` the objects of township ``TOWN``, ``outside`` those of ``OTHER_TOWN``."""
    url = (broker.create_pg_database() if request.param == "postgresql"
           else f"sqlite:///{tmp_path_factory.mktemp('talent_scope')}/scope.sqlite")
    migrate.upgrade(TalentService, url)
    with TalentService.store.handle(url).transaction() as session:
        directory.learn(session, county_events())
    service = talent(url)
    inside = side(service, TOWN, 12, (105, 101))
    outside = side(service, OTHER_TOWN, FAR_VILLAGE, (106, 107))
    with TalentService.store.handle(url).transaction() as session:
        session.add_all([Assessment(cadre_id=found["secretary"], year=2026, township_id=town,
                                    total=90, grade="good", result={"grade": "good"},
                                    assessed_by="组织部", completed_on=DAY)
                         for found, town in ((inside, TOWN), (outside, OTHER_TOWN))])
    base = service.add_training_base({"name": "市委党校", "location": "渤海路"})["id"]
    kept = {"base": base, "cadre": activist(service, None, "周敏"),
            "session": service.schedule_session({"course_id": inside["course"], "base_id": base,
                                                 "held_on": "2026-10-20"})["id"]}
    yield url, inside, outside, kept
    db.forget(url)
    if request.param == "postgresql":
        broker.drop_pg_database(url)


# rpc: the call made on one township's objects ``o`` (its township, its village)
CALLS = {
    "register_cadre": lambda o, town, village: {"payload": {
        "name": "陈晨", "gender": "male", "birth_date": "1995-01-01", "education": "bachelor",
        "standing": "activist", "unit_id": village}},
    "update_cadre": lambda o, town, village: {"cadre_id": o["candidate"],
                                              "payload": {"experience_years": 7}},
    "get_cadre": lambda o, town, village: {"cadre_id": o["village_secretary"]},
    "duty_lists": lambda o, town, village: {"cadre_id": o["secretary"], "year": 2026},
    "preview_assessment": lambda o, town, village: {"cadre_id": o["secretary"], "year": 2026},
    "get_assessment": lambda o, town, village: {"cadre_id": o["secretary"], "year": 2026},
    "remove_from_post": lambda o, town, village: {"post_id": o["post"], "ended_on": "2026-11-01",
                                                  "reason": "辞职"},
    "withdraw_reserve_candidate": lambda o, town, village: {
        "cadre_id": o["candidate"], "on": "2026-11-02", "reason": "外出务工"},
    "set_duty_status": lambda o, town, village: {"payload": {
        "item_id": o["item"], "status": "in_progress", "on": "2026-11-20"}},
    "set_project_status": lambda o, town, village: {"payload": {
        "project_id": o["project"], "status": "underway", "on": "2026-03-01"}},
    "add_course": lambda o, town, village: {"payload": {
        "title": "基层治理", "mode": "lecture", "hours": "2.0", "township_id": town}},
    "schedule_session": lambda o, town, village: {"payload": {
        "course_id": o["course"], "base_id": o["base"], "held_on": "2026-12-05"}},
    "record_attendance": lambda o, town, village: {"payload": {
        "session_id": o["session"], "cadre_ids": [o["village_secretary"], o["leader"]]}},
    "set_households_helped": lambda o, town, village: {"payload": {
        "cadre_id": o["leader"], "households_helped": 12}},
    "add_demonstration_zone": lambda o, town, village: {"payload": {
        "name": f"冬枣示范园{town}", "industry": "冬枣", "leader_id": o["leader"],
        "area_mu": "120.5"}},
    "add_online_shop": lambda o, town, village: {"payload": {
        "leader_id": o["leader"], "platform": "抖音", "name": f"枣乡直播间{town}"}},
    "record_shop_sales": lambda o, town, village: {"payload": {
        "shop_id": o["shop"], "year": 2026, "amount": "35000.00"}},
}
# the unit a refusal names: the object's township, or its village
VILLAGE_OWNED = {"register_cadre", "get_cadre", "update_cadre", "remove_from_post",
                 "set_households_helped"}


@pytest.mark.parametrize("rpc", sorted(CALLS))
def test_township_staff_act_inside_their_township_and_are_refused_outside_it(county, rpc):
    url, inside, outside, _ = county
    staff = getattr(talent(url, TOWNSHIP_STAFF), rpc)
    assert staff(**CALLS[rpc](inside, TOWN, 12)) is not None
    unit = FAR_VILLAGE if rpc in VILLAGE_OWNED else OTHER_TOWN
    with pytest.raises(Forbidden, match=f"organisation unit {unit} is outside your scope "
                                        f"\\(unit {TOWN}\\)"):
        staff(**CALLS[rpc](outside, OTHER_TOWN, FAR_VILLAGE))
    from_inside = getattr(talent(url), rpc)
    assert from_inside(**CALLS[rpc](outside, OTHER_TOWN, FAR_VILLAGE)) is not None


@pytest.mark.parametrize("rpc, arguments", [
    ("get_cadre", lambda kept, inside: {"cadre_id": kept["cadre"]}),
    ("schedule_session", lambda kept, inside: {"payload": {
        "course_id": inside["course"], "base_id": kept["base"], "held_on": "2026-12-06"}}),
    ("record_attendance", lambda kept, inside: {"payload": {
        "session_id": kept["session"], "cadre_ids": [inside["secretary"]]}}),
])
def test_what_belongs_to_no_unit_is_the_countys_alone(county, rpc, arguments):
    url, inside, _, kept = county
    with pytest.raises(Forbidden, match="belongs to no organisation unit"):
        getattr(talent(url, TOWNSHIP_STAFF), rpc)(**arguments(kept, inside))
    admin = talent(url, {"role": "county_admin", "permissions": ["*"]})
    assert getattr(admin, rpc)(**arguments(kept, inside)) is not None


@pytest.mark.parametrize("rpc, payload, field", [
    ("register_cadre", {"name": "陈晨", "gender": "male", "birth_date": "1995-01-01",
                        "education": "bachelor", "standing": "activist"}, "unit_id"),
    ("add_course", {"title": "党史", "mode": "lecture", "hours": "2.0"}, "township_id"),
])
def test_a_scoped_caller_names_the_unit_a_new_object_belongs_to(county, rpc, payload, field):
    url, *_ = county
    with pytest.raises(Forbidden, match=f"{field}: name a unit inside your scope"):
        getattr(talent(url, TOWNSHIP_STAFF), rpc)(payload)
    assert getattr(talent(url), rpc)(payload)[field] is None


def test_an_owner_refuses_bad_input_as_the_rpc_does_and_leaves_a_missing_object_to_it(county):
    url, *_ = county
    staff = talent(url, TOWNSHIP_STAFF)
    with pytest.raises(InvalidInput) as refused:
        staff.set_duty_status({"item_id": "x", "status": "done", "on": "2026-11-20"})
    assert "item_id" in refused.value.errors
    with pytest.raises(NotFound, match="no such post"):
        staff.remove_from_post(99999, "2026-11-01", "辞职")


def test_a_village_cadre_reads_its_villages_cadres_and_not_the_townships(county):
    url, inside, *_ = county
    cadre = talent(url, VILLAGE_CADRE)
    assert cadre.get_cadre(inside["leader"])["wealth_leader"]["village_id"] == 12
    with pytest.raises(Forbidden, match=f"organisation unit {TOWN} is outside your scope"):
        cadre.get_cadre(inside["secretary"])
    with pytest.raises(Forbidden, match=f"organisation unit {TOWN} is outside your scope"):
        cadre.list_cadres("reserve", unit_id=TOWN)
    with pytest.raises(Forbidden, match="unit_id: name a unit inside your scope"):
        cadre.list_cadres("reserve", township_id=TOWN)


# -- lists: by unit_id (the unit and the units under it), overdue items by township only --------

@pytest.fixture
def lists(db_url_factory):
    """Both townships' objects (``side``) and, in village 13 of ``TOWN``, a reserve candidate,
    a wealth leader with a cooperative and a zone, plus a candidate of the township's own pool;
    the village secretaries and leaders attended a session: ``(url, found)``."""
    url = db_url_factory()
    migrate.upgrade(TalentService, url)
    with TalentService.store.handle(url).transaction() as session:
        directory.learn(session, county_events())
    service = talent(url)
    inside, outside = side(service, TOWN, 12, (105, 101)), side(service, OTHER_TOWN, FAR_VILLAGE,
                                                                 (106, 107))
    found = {"inside": inside, "outside": outside,
             "candidate13": activist(service, 13, "孙丽"), "leader13": activist(service, 13, "钱富"),
             "pool": activist(service, TOWN, "吴倩")}
    for cadre, village in ((found["candidate13"], 13), (found["pool"], None)):
        service.add_reserve_candidate({"cadre_id": cadre, "township_id": TOWN,
                                       "village_id": village, "added_on": "2026-04-01"})
    service.register_wealth_leader({"cadre_id": found["leader13"], "village_id": 13,
                                    "industry": "海水养殖", "since": "2018-01-01"})
    service.add_cooperative({"name": "后辛庄养殖合作社", "industry": "海水养殖", "village_id": 13,
                             "leader_id": found["leader13"], "member_households": 20,
                             "founded_on": "2019-05-01"})
    service.add_demonstration_zone({"name": "后辛庄养殖示范区", "industry": "海水养殖",
                                    "leader_id": found["leader13"], "area_mu": "80.0"})
    service.record_attendance({"session_id": inside["session"], "cadre_ids": [
        inside["village_secretary"], inside["leader"], found["leader13"]]})
    yield url, found
    db.forget(url)


def cadre_ids(listing):
    return sorted(cadre["id"] for cadre in listing["cadres"])


def hours_of(report):
    return sorted(row["cadre_id"] for row in report["rows"])


def wealth_counts(summary):
    return {key: summary[key] for key in ("leaders", "cooperatives", "demonstration_zones",
                                          "online_shops")}


# the lists a village has a part of, called on ``service`` with the unit filter given
LISTS = (lambda service, **unit: service.list_cadres("wealth_leader", **unit),
         lambda service, **unit: service.list_reserve(**unit),
         lambda service, **unit: service.training_hours(2026, **unit),
         lambda service, **unit: service.wealth_summary(2026, **unit))


def test_a_village_cadre_lists_its_villages_part_and_no_other(lists):
    url, found = lists
    inside = found["inside"]
    cadre = talent(url, VILLAGE_CADRE)
    assert cadre_ids(cadre.list_reserve(unit_id=12)) == [inside["candidate"]]
    assert cadre_ids(cadre.list_cadres("wealth_leader", unit_id=12)) == [inside["leader"]]
    assert cadre_ids(cadre.list_cadres("village_secretary", unit_id=12, township_id=TOWN)) == [
        inside["village_secretary"]]
    assert cadre.list_cadres("township_secretary", unit_id=12)["cadres"] == []
    assert hours_of(cadre.training_hours(2026, unit_id=12)) == sorted(
        [inside["village_secretary"], inside["leader"]])
    summary = cadre.wealth_summary(2026, unit_id=12)
    assert wealth_counts(summary) == {"leaders": 1, "cooperatives": 0, "demonstration_zones": 0,
                                      "online_shops": 1}
    assert summary["industries"] == [{"industry": "冬枣", "leaders": 1}]

    for call in LISTS:
        for unit in (13, TOWN, FAR_VILLAGE):
            with pytest.raises(Forbidden, match=f"organisation unit {unit} is outside your scope "
                                                f"\\(unit 12\\)"):
                call(cadre, unit_id=unit)
        with pytest.raises(Forbidden, match="unit_id: name a unit inside your scope"):
            call(cadre, township_id=TOWN)


def test_township_staff_list_their_township_and_its_villages(lists):
    url, found = lists
    inside = found["inside"]
    staff = talent(url, TOWNSHIP_STAFF)
    assert cadre_ids(staff.list_reserve(unit_id=TOWN)) == sorted(
        [inside["candidate"], found["candidate13"], found["pool"]])
    assert cadre_ids(staff.list_reserve(unit_id=13)) == [found["candidate13"]]
    assert cadre_ids(staff.list_cadres("wealth_leader", unit_id=TOWN)) == sorted(
        [inside["leader"], found["leader13"]])
    assert cadre_ids(staff.list_cadres("township_secretary", unit_id=TOWN)) == [
        inside["secretary"]]
    assert hours_of(staff.training_hours(2026, unit_id=TOWN)) == sorted(
        [inside["secretary"], inside["village_secretary"], inside["leader"], found["leader13"]])
    assert wealth_counts(staff.wealth_summary(2026, unit_id=TOWN)) == {
        "leaders": 2, "cooperatives": 1, "demonstration_zones": 1, "online_shops": 1}
    assert wealth_counts(staff.wealth_summary(2026, unit_id=13)) == {
        "leaders": 1, "cooperatives": 1, "demonstration_zones": 1, "online_shops": 0}
    assert staff.overdue_items(township_id=TOWN, on="2026-12-21")["items"] == 1
    for call in LISTS:
        for unit in (OTHER_TOWN, FAR_VILLAGE, CITY):
            with pytest.raises(Forbidden, match=f"organisation unit {unit} is outside your scope"):
                call(staff, unit_id=unit)


def test_overdue_duty_items_are_the_townships_and_refused_to_a_village_cadre(lists):
    url, _ = lists
    cadre = talent(url, VILLAGE_CADRE)
    with pytest.raises(Forbidden, match=f"organisation unit {TOWN} is outside your scope"):
        cadre.overdue_items(township_id=TOWN)
    with pytest.raises(Forbidden, match="township_id: name a unit inside your scope"):
        cadre.overdue_items()


def test_lists_from_inside_and_county_wide_are_not_limited_and_filter_by_unit(lists):
    url, found = lists
    inside, outside = found["inside"], found["outside"]
    every_candidate = sorted([inside["candidate"], outside["candidate"], found["candidate13"],
                              found["pool"]])
    for context in (None, {"role": "county_admin", "permissions": ["*"]},
                    {"role": "auditor", "scope_unit_id": None, "permissions": ["*.read"]}):
        service = talent(url, context)
        assert cadre_ids(service.list_reserve()) == every_candidate
        assert cadre_ids(service.list_reserve(unit_id=OTHER_TOWN)) == [outside["candidate"]]
        assert cadre_ids(service.list_reserve(township_id=TOWN)) == sorted(
            [inside["candidate"], found["candidate13"], found["pool"]])
        assert cadre_ids(service.list_reserve(unit_id=CITY)) == every_candidate
        assert wealth_counts(service.wealth_summary(2026))["leaders"] == 3
        assert hours_of(service.training_hours(2026, unit_id=FAR_VILLAGE)) == [
            outside["village_secretary"]]
        assert service.overdue_items(on="2026-12-21")["items"] == 2
    with pytest.raises(InvalidInput) as bad:
        talent(url).list_reserve(unit_id="12")
    assert "unit_id" in bad.value.errors
