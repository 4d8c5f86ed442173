"""The members service over real RabbitMQ RPC, migrated with Alembic, on PostgreSQL and SQLite."""
import base64

import pytest
from sqlalchemy import func, select

from services.members.models import Activity, Member, OrgUnit
from services.members.service import REVEAL_PERMISSION, MembersService
from services.members import resident_id
from shared import db, migrate
from shared.bus.rpc import rpc_client
from shared.errors import Conflict, InvalidInput, NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running
from tests.support.spy import EventSpy

pytestmark = pytest.mark.integration


@pytest.fixture
def members(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    spy = EventSpy(amqp_uri, "members")
    with services_running(config, MembersService):
        with rpc_client(config) as cluster:
            yield cluster.members, spy, db.database(url)
    spy.close()


def count(database, model):
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def county(rpc):
    city = rpc.create_org_unit({"name": "黄骅市委", "kind": "city_committee", "parent_id": None})
    town = rpc.create_org_unit({"name": "旧城镇党委", "kind": "township_committee", "parent_id": city["id"]})
    village = rpc.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch", "parent_id": town["id"]})
    return city, town, village


def person(branch_id, number=1, **overrides):
    from datetime import date
    born = date(1980, 5, 17)
    return {"name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, "male"), "phone": "13812345678",
            "education": "senior_secondary", "join_date": "2005-07-01", "status": "full",
            "household_plaque": True, "branch_id": branch_id, **overrides}


def test_organisation_tree_rules_and_events(members):
    rpc, spy, database = members
    city, town, village = county(rpc)
    assert village["township_id"] == town["id"]
    with pytest.raises(InvalidInput) as second_root:
        rpc.create_org_unit({"name": "另一个市委", "kind": "city_committee", "parent_id": None})
    assert "parent_id" in second_root.value.errors
    with pytest.raises(InvalidInput) as wrong_parent:
        rpc.create_org_unit({"name": "X村党支部", "kind": "village_branch", "parent_id": city["id"]})
    assert "parent_id" in wrong_parent.value.errors
    with pytest.raises(InvalidInput) as blank:
        rpc.create_org_unit({"name": "  ", "kind": "village_branch", "parent_id": town["id"]})
    assert "name" in blank.value.errors
    assert count(database, OrgUnit) == 3

    other = rpc.create_org_unit({"name": "羊二庄镇党委", "kind": "township_committee", "parent_id": city["id"]})
    moved = rpc.move_org_unit(village["id"], other["id"])
    assert moved["township_id"] == other["id"]
    with pytest.raises(InvalidInput, match="cycle|parent"):
        rpc.move_org_unit(other["id"], village["id"])
    assert rpc.rename_org_unit(village["id"], "前辛庄村第一党支部")["name"] == "前辛庄村第一党支部"
    rpc.register_member(person(village["id"]))
    with pytest.raises(Conflict, match="transfer the 1 member"):
        rpc.dissolve_org_unit(village["id"])
    assert [u["id"] for u in rpc.list_subtree(city["id"])] == [city["id"], town["id"], other["id"], village["id"]]
    changes = spy.wait_for("org_unit_changed", 2)
    assert [c["data"]["change"] for c in changes] == ["moved", "renamed"]
    assert len(spy.wait_for("org_unit_created", 4)) == 4


def test_member_registration_validates_masks_and_refuses_duplicates(members):
    rpc, spy, database = members
    _, _, village = county(rpc)
    created = rpc.register_member(person(village["id"]))
    assert "*" in created["resident_id"] and created["category"] == "rural"
    [event] = spy.wait_for("member_registered")
    assert event["data"]["member_id"] == created["id"] and "resident_id" not in event["data"]

    bad = person(village["id"], number=2, resident_id="130983198005171230", gender="female")
    with pytest.raises(InvalidInput) as refused:
        rpc.register_member(bad)
    assert "resident_id" in refused.value.errors
    with pytest.raises(InvalidInput, match="already registered"):
        rpc.register_member(person(village["id"]))
    with pytest.raises(InvalidInput) as not_branch:
        rpc.register_member(person(village["township_id"], number=3))
    assert "branch_id" in not_branch.value.errors
    assert count(database, Member) == 1


def test_resident_id_is_revealed_only_with_the_permission(amqp_uri, sqlite_url_factory):
    url = sqlite_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    with services_running(config, MembersService):
        with rpc_client(config) as cluster:
            _, _, village = county(cluster.members)
            member = cluster.members.register_member(person(village["id"]))
        with rpc_client(config, context_data={"permissions": [REVEAL_PERMISSION]}) as cluster:
            revealed = cluster.members.get_member(member["id"])
    assert revealed["resident_id"] == person(village["id"])["resident_id"]
    assert member["resident_id"] == resident_id.mask(revealed["resident_id"])


def test_activities_publish_facts_and_revocation_compensates(members):
    rpc, spy, database = members
    _, _, village = county(rpc)
    member = rpc.register_member(person(village["id"]))
    from datetime import date, timedelta
    day = (date.today() - timedelta(days=3)).isoformat()
    activity = rpc.record_activity({"member_id": member["id"], "kind": "volunteer_service",
                                    "occurred_on": day, "hours": "2.5", "project": "暖心早餐"})
    [recorded] = spy.wait_for("activity_recorded")
    assert recorded["data"]["hours"] in ("2.5", "2.50")
    assert recorded["data"]["township_id"] == village["township_id"]
    assert recorded["id"] == activity["event_id"]

    with pytest.raises(InvalidInput) as wrong:
        rpc.record_activity({"member_id": member["id"], "kind": "meeting", "occurred_on": day,
                             "hours": "2"})
    assert {"hours", "meeting_kind", "attended"} <= set(wrong.value.errors)

    rpc.revoke_activity(activity["id"], "recorded for the wrong member")
    [revoked] = spy.wait_for("activity_revoked")
    assert revoked["data"]["revoked_event_id"] == recorded["id"]
    with pytest.raises(Conflict, match="already revoked"):
        rpc.revoke_activity(activity["id"], "again")
    with pytest.raises(NotFound):
        rpc.revoke_activity(99999, "nothing")
    assert count(database, Activity) == 1


def test_a_sheet_with_one_bad_row_is_refused_whole(members):
    rpc, spy, database = members
    _, _, village = county(rpc)
    first = person(village["id"], number=11)
    second = person(village["id"], number=12, name="李秀英", gender="female",
                    resident_id=resident_id.make("130983", __import__("datetime").date(1980, 5, 17), 12, "female"))
    rpc.register_member(first)
    rpc.register_member(second)
    from datetime import date, timedelta
    day = (date.today() - timedelta(days=2)).isoformat()
    good = (f"resident_id,kind,occurred_on,hours,meeting_kind,attended\n"
            f"{first['resident_id']},volunteer_service,{day},3,,\n"
            f"{second['resident_id']},meeting,{day},,party_lesson,true\n")
    bad = good + f"{second['resident_id']},meeting,{day},,,\n130983198005171299,blood_donation,{day},,,\n"
    with pytest.raises(InvalidInput) as refused:
        rpc.import_activities(village["id"], "month.csv", base64.b64encode(bad.encode()).decode())
    assert {"row 4.meeting_kind", "row 4.attended", "row 5.resident_id"} <= set(refused.value.errors)
    assert count(database, Activity) == 0
    result = rpc.import_activities(village["id"], "month.csv", base64.b64encode(good.encode()).decode())
    assert result["imported"] == 2
    assert len(spy.wait_for("activity_recorded", 2)) == 2


def test_transfer_flow_and_leaving_keep_history(members):
    rpc, spy, database = members
    _, town, village = county(rpc)
    community = rpc.create_org_unit({"name": "渤海路社区党支部", "kind": "community_branch",
                                     "parent_id": town["id"]})
    member = rpc.register_member(person(village["id"]))
    moved = rpc.transfer_member({"member_id": member["id"], "to_branch_id": community["id"],
                                 "kind": "transfer", "on": "2026-03-01"})
    assert moved["category"] == "community"
    left = rpc.member_leaves({"member_id": member["id"], "reason": "deceased", "on": "2026-06-01"})
    assert left["state"] == "left"
    with pytest.raises(Conflict, match="left"):
        rpc.transfer_member({"member_id": member["id"], "to_branch_id": village["id"],
                             "kind": "transfer", "on": "2026-07-01"})
    assert [h["kind"] for h in rpc.member_history(member["id"])] == ["transfer", "left"]
    assert rpc.get_member(member["id"])["left_reason"] == "deceased"
    spy.wait_for("member_transferred")
    spy.wait_for("member_left")


def test_member_development_runs_the_six_controls_in_order(members):
    rpc, spy, database = members
    _, _, village = county(rpc)
    applicant = {k: v for k, v in person(village["id"], number=21).items()
                 if k not in ("join_date", "status")}
    candidate = rpc.apply_for_membership({**applicant, "application_date": "2023-03-01",
                                          "on": "2023-03-01", "by": "支部书记 张强"})
    cid = candidate["id"]
    assert candidate["stage"] == "applicant"
    vote = {"eligible": 40, "present": 33, "in_favour": 30, "against": 2, "abstain": 1}
    with pytest.raises(Conflict, match="out of order"):
        rpc.record_development_step(cid, {"step": "vote", "on": "2023-04-01", "by": "张强", "data": vote})
    with pytest.raises(InvalidInput) as incomplete:        # the input is checked before the order
        rpc.record_development_step(cid, {"step": "vote", "on": "2023-04-01", "by": "张强", "data": {}})
    assert "data.eligible" in incomplete.value.errors
    with pytest.raises(Conflict, match="too early"):
        rpc.record_development_step(cid, {"step": "recommendation", "on": "2023-03-10", "by": "张强",
                                          "data": {"recommended_by": "group", "recommenders": ["刘洋"]}})
    steps = [
        ("recommendation", "2023-04-15", {"recommended_by": "group", "recommenders": ["刘洋"]}),
        ("target_selection", "2024-05-01", {"branch_committee_approved": True}),
        ("public_notice", "2024-05-10", {"start": "2024-05-03", "end": "2024-05-09", "objections": 0}),
        ("vote", "2024-05-12", {"eligible": 40, "present": 33, "in_favour": 30, "against": 2, "abstain": 1}),
        ("pre_review", "2024-05-20", {"reviewer_unit": "旧城镇党委", "approved": True}),
        ("admission", "2024-06-01", {"introducers": ["刘洋", "陈静"]}),
    ]
    for step, on, data in steps:
        rpc.record_development_step(cid, {"step": step, "on": on, "by": "张强", "data": data})
    admitted = rpc.get_candidate(cid)
    assert admitted["stage"] == "probationary" and admitted["member_id"]
    assert rpc.get_member(admitted["member_id"])["status"] == "probationary"
    confirmation = {"vote": {"eligible": 40, "present": 35, "in_favour": 34, "against": 1, "abstain": 0},
                    "approved": True}
    with pytest.raises(Conflict, match="too early"):
        rpc.record_development_step(cid, {"step": "confirmation", "on": "2025-01-01", "by": "张强",
                                          "data": confirmation})
    done = rpc.record_development_step(cid, {"step": "confirmation", "on": "2025-06-10", "by": "张强",
                                             "data": confirmation})
    assert done["stage"] == "full"
    assert rpc.get_member(admitted["member_id"])["status"] == "full"
    record = rpc.get_candidate(cid)["record"]
    assert [r["step"] for r in record][-2:] == ["admission", "confirmation"]
    assert all(r["responsible"] for r in record)
    spy.wait_for("member_status_changed")
    assert len(spy.wait_for("development_step_recorded", 8)) == 8


def test_overdue_development_is_listed(members):
    rpc, spy, database = members
    _, _, village = county(rpc)
    applicant = {k: v for k, v in person(village["id"], number=31).items()
                 if k not in ("join_date", "status")}
    candidate = rpc.apply_for_membership({**applicant, "application_date": "2025-01-01",
                                          "on": "2025-01-01", "by": "张强"})
    [late] = rpc.list_overdue_development("2026-01-01")
    assert late["candidate_id"] == candidate["id"] and late["expected_step"] == "recommendation"
    assert rpc.list_overdue_development("2025-02-01") == []


def test_demo_county_loads_once_with_its_events_in_the_outbox(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    summary = MembersService.load_demo(config, scale=0.02)
    assert summary["members"] > 100 and summary["townships"] >= 1
    assert MembersService.load_demo(config, scale=0.02) is None
    database = db.database(url)
    assert count(database, Member) == summary["members"]
    assert count(database, MembersService.store.outbox_table) == summary["events"]
    with services_running(config, MembersService):
        with rpc_client(config) as cluster:
            first_branch = next(u for u in cluster.members.list_subtree(1) if u["kind"] == "village_branch")
            listed = cluster.members.list_members(first_branch["id"], limit=5)
            assert listed and all("*" in m["resident_id"] for m in listed)
            created = cluster.members.register_member(person(first_branch["id"], number=99,
                                                             resident_id=resident_id.make("130983", __import__("datetime").date(1970, 1, 1), 99, "male"),
                                                             birth_date="1970-01-01"))
            assert created["id"] > summary["members"]


def test_volunteer_teams_and_projects(members):
    rpc, spy, database = members
    _, town, village = county(rpc)
    team = rpc.create_team({"name": "旧城镇志愿服务队", "township_id": town["id"]})
    branch_team = rpc.create_team({"name": "前辛庄村志愿服务队", "branch_id": village["id"]})
    assert branch_team["township_id"] == town["id"]
    with pytest.raises(InvalidInput) as duplicate:
        rpc.create_team({"name": "旧城镇志愿服务队"})
    assert "name" in duplicate.value.errors
    with pytest.raises(InvalidInput) as not_township:
        rpc.create_team({"name": "错队", "township_id": village["id"]})
    assert "township_id" in not_township.value.errors
    assert rpc.create_project({"team_id": team["id"], "name": "暖心早餐"})["name"] == "暖心早餐"
    with pytest.raises(InvalidInput) as twice:
        rpc.create_project({"team_id": team["id"], "name": "暖心早餐"})
    assert "name" in twice.value.errors
    with pytest.raises(InvalidInput) as no_team:
        rpc.create_project({"team_id": 999, "name": "x"})
    assert "team_id" in no_team.value.errors
    assert [t["name"] for t in rpc.list_teams(town["id"])] == ["旧城镇志愿服务队", "前辛庄村志愿服务队"]
    member = rpc.register_member(person(village["id"]))
    from datetime import date, timedelta
    day = (date.today() - timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as missing_team:
        rpc.record_activity({"member_id": member["id"], "kind": "volunteer_service",
                             "occurred_on": day, "hours": "1", "team_id": 999})
    assert "team_id" in missing_team.value.errors
    recorded = rpc.record_activity({"member_id": member["id"], "kind": "volunteer_service",
                                    "occurred_on": day, "hours": "1", "team_id": team["id"],
                                    "project": "暖心早餐"})
    assert recorded["team_id"] == team["id"]
    assert count(database, Activity) == 1


def test_an_xlsx_sheet_imports_through_rpc(members):
    import io
    from datetime import date, timedelta

    from openpyxl import Workbook

    rpc, spy, database = members
    _, _, village = county(rpc)
    rpc.register_member(person(village["id"], number=41))
    sheet = Workbook()
    rows = sheet.active
    rows.append(["resident_id", "kind", "occurred_on", "households", "amount"])
    day = date.today() - timedelta(days=4)
    rows.append([person(village["id"], number=41)["resident_id"], "pairing", day, 2, None])
    rows.append([person(village["id"], number=41)["resident_id"], "donation", day, None, "200.00"])
    content = io.BytesIO()
    sheet.save(content)
    result = rpc.import_activities(village["id"], "october.xlsx",
                                   base64.b64encode(content.getvalue()).decode())
    assert result["imported"] == 2
    kinds = sorted(e["data"]["kind"] for e in spy.wait_for("activity_recorded", 2))
    assert kinds == ["donation", "pairing"]
