"""The affairs service's methods on a real session (no broker), on PostgreSQL and SQLite: the
procedure from proposal to completion, its events, the power list's thresholds, reading back."""
from decimal import Decimal

import pytest

from affairs_walk import DAYS, VILLAGE, Walk, ago, count, local, outbox, proposal
from services.affairs import matters
from services.affairs.models import Matter, StepRecord
from services.affairs.service import AffairsService
from shared import migrate
from shared.errors import InvalidInput, NotFound


@pytest.fixture
def url(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    return url


@pytest.fixture
def affairs(url, tmp_path):
    return local(url, tmp_path / "evidence")


def test_a_matter_passes_the_full_procedure_and_is_completed(affairs):
    walk = Walk(affairs)
    assert walk.matter["procedure"] == "full" and walk.matter["status"] == "deliberating"
    assert walk.matter["next_step"] == "joint_meeting"
    walk.through("villagers_assembly")
    assert walk.matter["status"] == "resolved"
    walk.step("resolution_published")
    walk.step("execution")
    assert walk.matter["status"] == "executing" and walk.matter["next_step"] == "implementation_published"
    walk.finish_execution()
    walk.step("implementation_published")
    walk.sign_all()
    done = walk.step("acceptance")

    assert done["status"] == "completed" and done["closed_on"] == ago(DAYS["acceptance"])
    assert done["next_step"] is None and done["due"] is None
    assert [s["step"] for s in done["steps"]] == done["procedure_steps"]
    assert [s["outcome"] for s in done["steps"][:4]] == ["adopted"] * 4
    assert done["steps"][3]["votes"] == {"for": 27, "against": 2, "abstain": 2}
    assert done["steps"][3]["attendance"] == {"members": 45, "present": 31}
    assert done["execution_percent"] == 100 and len(done["progress"]) == 2
    assert len(done["sign_offs"]) == 7 and done["violations"] == []
    assert [p["kind"] for p in done["publications"]] == ["resolution", "implementation"]

    types = [e["type"] for e in outbox(affairs)]
    assert types.count("matter_proposed") == 1 and types.count("matter_step_recorded") == 8
    assert types.count("matter_resolved") == 1 and types.count("matter_published") == 2
    [completed] = outbox(affairs, "matter_completed")
    assert completed["data"]["by_procedure"] is True and completed["data"]["branch_kind"] == "village"
    assert completed["data"]["township_id"] == 2 and completed["data"]["occurred_on"] == ago(40)
    [resolved] = outbox(affairs, "matter_resolved")
    assert resolved["data"]["step"] == "villagers_assembly"
    assert types.index("matter_resolved") > types.index("matter_proposed")


def test_the_amount_decides_the_procedure_and_the_county_sets_the_threshold(affairs, url, tmp_path):
    small = affairs.propose_matter(proposal(amount="12000.00"))
    assert small["procedure"] == "light"
    assert small["procedure_steps"] == ["proposal", "joint_meeting", "resolution_published",
                                        "execution", "implementation_published", "acceptance"]
    assert affairs.propose_matter(proposal(amount="50000.00"))["procedure"] == "full"
    strict = local(url, tmp_path / "e2", amount_thresholds={"spending": "10000.00"})
    assert strict.propose_matter(proposal(amount="12000.00"))["procedure"] == "full"
    assert affairs.propose_matter(proposal(item="member_development", amount=None))["procedure"] == "party"


def test_a_light_matter_is_resolved_by_its_joint_meeting(affairs):
    walk = Walk(affairs, amount="9000.00")
    walk.step("joint_meeting")
    assert walk.matter["status"] == "resolved"
    assert outbox(affairs, "matter_resolved")[0]["data"]["step"] == "joint_meeting"
    with pytest.raises(InvalidInput) as refused:
        walk.step("party_assembly")
    assert "step" in refused.value.errors


def test_proposals_are_checked_against_the_power_list_and_the_directory(affairs):
    cases = [({"item": "lottery"}, "item"), ({"amount": None}, "amount"),
             ({"item": "seal_use", "amount": "10.00"}, "amount"),
             ({"branch_id": 2}, "branch_id"), ({"amount": "-1.00"}, "amount"),
             ({"amount": "1.005"}, "amount"), ({"proposed_on": "2999-01-01"}, "proposed_on"),
             ({"title": "a\x00b"}, "title"), ({"attendance": {"members": 5, "present": 6}},
                                              "attendance.present"),
             ({"votes": {"for": 4, "against": 2, "abstain": 0}}, "votes")]
    for change, field in cases:
        with pytest.raises(InvalidInput) as refused:
            affairs.propose_matter(proposal(**change))
        assert field in refused.value.errors, (change, refused.value.errors)
    with pytest.raises(NotFound):
        affairs.propose_matter(proposal(branch_id=99))
    assert count(affairs, Matter) == 0 and outbox(affairs) == []


def test_reading_back_and_listing(affairs):
    first = Walk(affairs).id
    Walk(affairs, amount="9000.00", title="修缮村委会院墙")
    found = affairs.get_matter(first)
    assert found["item_name"] == "村级重大财务支出" and found["amount"] == "86000.00"
    assert found["due"] == {"step": "joint_meeting", "on": ago(70)}
    listed = affairs.list_matters({"branch_id": 12, "limit": 1})
    assert listed["total"] == 2 and [m["id"] for m in listed["matters"]] == [first]
    assert affairs.list_matters({"status": "completed"})["total"] == 0
    assert affairs.list_matters({"year": int(ago(100)[:4])})["total"] == 2
    with pytest.raises(NotFound):
        affairs.get_matter(999)
    with pytest.raises(InvalidInput) as refused:
        affairs.get_matter("1")
    assert "matter_id" in refused.value.errors


def test_a_village_moved_to_another_township_takes_its_matters(affairs):
    walk = Walk(affairs)
    with affairs.store.transaction() as session:
        matters.learn_unit(session, {**VILLAGE, "parent_id": 3, "township_id": 3})
    assert affairs.get_matter(walk.id)["township_id"] == 3
    walk.step("joint_meeting")
    assert outbox(affairs, "matter_step_recorded")[-1]["data"]["township_id"] == 3
    assert count(affairs, StepRecord) == 2
    assert Decimal(affairs.get_matter(walk.id)["amount"]) == Decimal("86000")
