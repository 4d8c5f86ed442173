"""Counts per village and township by category and status, the overdue list and the violations
list (service methods on PostgreSQL and SQLite, no broker)."""
import pytest

from affairs_walk import TODAY, Walk, ago, local, meeting
from services.affairs import matters
from services.affairs.service import AffairsService
from shared import migrate
from shared.errors import InvalidInput


@pytest.fixture
def affairs(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    service = local(url, tmp_path / "evidence")
    with service.store.transaction() as session:
        matters.learn_unit(session, {"org_unit_id": 3, "parent_id": 1, "township_id": 3,
                                     "kind": "township_committee", "name": "羊二庄镇党委"})
        matters.learn_unit(session, {"org_unit_id": 31, "parent_id": 3, "township_id": 3,
                                     "kind": "village_branch", "name": "羊二庄村党支部"})
    return service


def test_counts_per_township_and_village_by_category_and_status(affairs):
    Walk(affairs).through("acceptance")                                        # 12: completed
    Walk(affairs, item="poor_households", amount=None).step("joint_meeting")  # 12: deliberating
    Walk(affairs, branch_id=13, item="seal_use", amount=None)                 # 13: deliberating
    Walk(affairs, branch_id=31).step("joint_meeting", **meeting(9, 8, 2, 6))  # 31: ended
    towns = affairs.counts()
    assert towns["totals"] == {"total": 4,
                               "by_category": {"democratic_decision": 2, "livelihood": 1,
                                               "village_affairs": 1},
                               "by_status": {"completed": 1, "deliberating": 2, "ended": 1}}
    by_town = {u["unit_id"]: u for u in towns["units"]}
    assert by_town[2]["name"] == "旧城镇党委" and by_town[2]["total"] == 3
    assert by_town[2]["by_category"] == {"democratic_decision": {"completed": 1},
                                         "livelihood": {"deliberating": 1},
                                         "village_affairs": {"deliberating": 1}}
    assert by_town[3]["by_category"] == {"democratic_decision": {"ended": 1}}
    villages = affairs.counts({"level": "village", "township_id": 2})
    assert [(u["unit_id"], u["total"]) for u in villages["units"]] == [(12, 2), (13, 1)]
    assert villages["categories"]["livelihood"] == "民生"
    assert affairs.counts({"year": TODAY.year + 1})["totals"]["total"] == 0
    with pytest.raises(InvalidInput) as refused:
        affairs.counts({"level": "county"})
    assert "level" in refused.value.errors


def test_the_overdue_list_names_the_late_step_and_the_unanswered_objections(affairs):
    late = Walk(affairs)                                   # joint meeting due 30 days after the proposal
    published = Walk(affairs, branch_id=13)
    published.through("resolution_published")             # execution due 60 days after the notice ends
    objection = affairs.raise_objection(published.id, {"raised_on": ago(20), "raised_by": "李监督",
                                                        "reason": "公示内容不全"})
    found = affairs.overdue()
    assert [(m["id"], m["next_step"], m["due_on"], m["days_overdue"]) for m in found["matters"]] == [
        (late.id, "joint_meeting", ago(70), 70), (published.id, "execution", ago(17), 17)]
    assert [(o["id"], o["days_overdue"]) for o in found["objections"]] == [(objection["id"], 5)]
    earlier = affairs.overdue({"as_of": ago(30)})
    assert [m["id"] for m in earlier["matters"]] == [late.id] and earlier["objections"] == []
    assert affairs.overdue({"township_id": 3})["matters"] == []
    published.step("execution")
    assert [m["id"] for m in affairs.overdue()["matters"]] == [late.id]


def test_the_violations_list(affairs):
    walk = Walk(affairs)
    walk.step("villagers_assembly", as_happened=True)
    found = affairs.list_violations({"branch_id": 12})
    assert found["total"] == 2 and {v["step"] for v in found["violations"]} == {"joint_meeting",
                                                                                 "party_assembly"}
    assert affairs.list_violations({"township_id": 3})["total"] == 0
