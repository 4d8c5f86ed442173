"""The members service checks its gateway caller's scope itself (``shared.scope``): the service
built without a broker (``worker_factory``) on a migrated database, PostgreSQL and SQLite.

The county: city > town (villages A and B) and other town (village C); one member in each
village. A village cadre of A, township staff of town, and calls from inside (no role)."""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

from services.members import resident_id
from services.members.models import Activity, Member, Movement
from services.members.service import MembersService
from shared import db, migrate
from shared.api import Permissions
from shared.errors import Forbidden, NotFound

pytestmark = pytest.mark.integration

WRITER = ["*.read", "members.write", "activities.write"]
DAY = (date.today() - timedelta(days=2)).isoformat()


def service(url, context=None):
    context = dict(context or {})
    store = MembersService.store.handle(url, context=context)
    return worker_factory(MembersService, store=store,
                          caller=Permissions(context.get("permissions") or ()), rules={})


def person(branch_id, number):
    born = date(1980, 5, 17)
    return {"name": f"党员{number}", "gender": "male", "ethnicity": "汉族",
            "birth_date": born.isoformat(), "join_date": "2005-07-01", "status": "full",
            "resident_id": resident_id.make("130983", born, number, "male"),
            "branch_id": branch_id}


def study(member_id, **extra):
    return {"member_id": member_id, "kind": "study", "occurred_on": DAY, "attended": True, **extra}


@pytest.fixture
def county(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    inside = service(url)

    def unit(name, kind, parent):
        return inside.create_org_unit({"name": name, "kind": kind, "parent_id": parent})["id"]

    city = unit("黄骅市委", "city_committee", None)
    town = unit("旧城镇党委", "township_committee", city)
    other_town = unit("南排河镇党委", "township_committee", city)
    a, b = unit("前辛庄村党支部", "village_branch", town), unit("后辛庄村党支部", "village_branch", town)
    c = unit("歧口村党支部", "village_branch", other_town)
    members = {v: inside.register_member(person(v, n))["id"] for n, v in ((1, a), (2, b), (3, c))}
    county = SimpleNamespace(url=url, database=db.database(url), town=town,
                             other_town=other_town, a=a, b=b, c=c,
                             members=members, inside=inside)
    county.cadre = service(url, {"role": "village_cadre", "scope_unit_id": a,
                                 "permissions": WRITER})
    county.staff = service(url, {"role": "township_staff", "scope_unit_id": town,
                                 "permissions": WRITER})
    return county


def count(county, model):
    with county.database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_village_cadre_records_activities_only_for_members_of_their_village(county):
    mine, theirs = county.members[county.a], county.members[county.b]
    recorded = county.cadre.record_activity(study(mine))
    assert recorded["member_id"] == mine and recorded["branch_id"] == county.a
    full_width = str(theirs).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for member_id in (theirs, str(theirs), full_width):
        with pytest.raises(Forbidden) as refused:
            county.cadre.record_activity(study(member_id))
        assert str(refused.value) == (f"organisation unit {county.b} is outside your scope "
                                      f"(unit {county.a})")
    with pytest.raises(Forbidden, match=f"unit {county.b} is outside"):
        county.cadre.record_activity({**study(mine), "branch_id": county.b})
    assert count(county, Activity) == 1


def test_a_village_cadre_reads_and_changes_no_member_outside_their_village(county):
    mine, theirs = county.members[county.a], county.members[county.c]
    assert county.cadre.get_member(mine)["branch_id"] == county.a
    assert county.cadre.member_history(mine) == []
    for call in (lambda s: s.get_member(theirs), lambda s: s.member_history(theirs),
                 lambda s: s.member_leaves({"member_id": theirs, "reason": "withdrew",
                                            "on": DAY}),
                 lambda s: s.transfer_member({"member_id": theirs, "to_branch_id": county.a,
                                              "kind": "transfer", "on": DAY}),
                 lambda s: s.transfer_member({"member_id": mine, "to_branch_id": county.c,
                                              "kind": "transfer", "on": DAY}),
                 lambda s: s.register_member(person(county.c, 9))):
        with pytest.raises(Forbidden, match=f"unit {county.c} is outside your scope"):
            call(county.cadre)
    with pytest.raises(NotFound):
        county.cadre.get_member(999_999)
    assert count(county, Movement) == 0 and count(county, Member) == 3


def test_township_staff_covers_every_village_of_their_township_and_no_other(county):
    a_member, b_member = county.members[county.a], county.members[county.b]
    activity = county.staff.record_activity(study(b_member))
    assert county.staff.get_member(a_member)["id"] == a_member
    moved = county.staff.transfer_member({"member_id": a_member, "to_branch_id": county.b,
                                          "kind": "transfer", "on": DAY})
    assert moved["branch_id"] == county.b
    assert county.staff.revoke_activity(activity["id"], "重复登记")["revoked"] is True
    far = county.inside.record_activity(study(county.members[county.c]))
    with pytest.raises(Forbidden, match=f"unit {county.c} is outside your scope \\(unit "
                                        f"{county.town}\\)"):
        county.staff.revoke_activity(far["id"], "重复登记")
    with pytest.raises(Forbidden, match=f"unit {county.c} is outside"):
        county.staff.get_member(county.members[county.c])


def test_a_cadre_revokes_only_activities_of_their_members(county):
    mine = county.cadre.record_activity(study(county.members[county.a]))
    theirs = county.inside.record_activity(study(county.members[county.b]))
    with pytest.raises(Forbidden, match=f"unit {county.b} is outside"):
        county.cadre.revoke_activity(theirs["id"], "重复登记")
    assert county.cadre.revoke_activity(mine["id"], "重复登记")["revoked"] is True
    with pytest.raises(NotFound):
        county.cadre.revoke_activity(999_999, "重复登记")


def test_reference_reads_stay_open_and_calls_from_inside_are_not_limited(county):
    assert [t["id"] for t in county.cadre.list_townships()] == [county.town, county.other_town]
    assert county.cadre.member_sheet_template() and county.cadre.activity_sheet_template()
    assert county.cadre.get_org_unit(county.a)["id"] == county.a
    with pytest.raises(Forbidden):
        county.cadre.get_org_unit(county.town)
    far = county.members[county.c]
    assert county.inside.get_member(far)["branch_id"] == county.c
    assert county.inside.record_activity(study(far))["branch_id"] == county.c
    admin = service(county.url, {"role": "county_admin", "permissions": ["*"]})
    left = admin.member_leaves({"member_id": far, "reason": "withdrew", "on": DAY})
    assert left["state"] == "left"
