"""Every refusal of the procedure, its quorum edges, voted-down steps, and the steps recorded as
they happened with their violations (service methods on PostgreSQL and SQLite, no broker)."""
import pytest

from affairs_walk import DAYS, Walk, ago, count, local, meeting, outbox
from services.affairs.models import StepRecord, Violation
from services.affairs.service import AffairsService
from shared import migrate
from shared.errors import Conflict, InvalidInput


@pytest.fixture
def affairs(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    return local(url, tmp_path / "evidence")


def refused(walk, step, days_ago=None, **extra):
    """The step is refused with a Conflict; nothing is stored or published. Returns the reason."""
    steps, events = count(walk.service, StepRecord), len(outbox(walk.service))
    with pytest.raises(Conflict) as refusal:
        walk.step(step, days_ago, **extra)
    assert count(walk.service, StepRecord) == steps and len(outbox(walk.service)) == events
    return str(refusal.value)


def test_a_skipped_step_is_refused_with_the_step_it_needs(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting")
    reason = refused(walk, "villagers_assembly")
    assert "党员大会审议 (party_assembly) must be recorded before" in reason
    assert "as_happened" in reason


def test_a_step_out_of_order_is_refused(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting")
    reason = refused(walk, "party_assembly", days_ago=97)
    assert f"dated {ago(97)}, before the 村\"两委\"联席会议商议 of {ago(95)}" in reason


def test_execution_before_the_resolution_is_refused(affairs):
    walk = Walk(affairs)
    walk.through("villagers_assembly")
    assert "recorded before the 决议公开 (resolution_published)" in refused(walk, "execution")


def test_execution_within_the_notice_period_is_refused(affairs):
    walk = Walk(affairs)
    walk.through("resolution_published")
    reason = refused(walk, "execution", days_ago=DAYS["resolution_published"] - 6)
    assert f"may not happen before {ago(DAYS['resolution_published'] - 7)}" in reason
    assert walk.step("execution", days_ago=DAYS["resolution_published"] - 7)["status"] == "executing"


def test_a_publication_shorter_than_its_notice_period_is_refused(affairs):
    walk = Walk(affairs)
    walk.through("villagers_assembly")
    assert "public for 3 days, at least 7 are required" in refused(walk, "resolution_published",
                                                                     notice_days=3)


def test_a_step_recorded_twice_is_refused(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting")
    assert "was already recorded on" in refused(walk, "joint_meeting")


@pytest.mark.parametrize("present, accepted", [(30, True), (29, False)])
def test_the_representatives_assembly_needs_two_thirds_present(affairs, present, accepted):
    walk = Walk(affairs)
    walk.through("party_assembly")
    attendance = {"form": "representatives_meeting", **meeting(45, present, present - 2, 1, 1)}
    if accepted:                                   # 30 of 45 is exactly two thirds
        assert walk.step("villagers_assembly", **attendance)["status"] == "resolved"
    else:                                          # 29 is one short
        reason = refused(walk, "villagers_assembly", **attendance)
        assert "no quorum: 29 of 45 present" in reason and "at least 2/3" in reason
        assert "(30)" in reason


def test_a_majority_of_those_present_decides(affairs):
    walk = Walk(affairs)
    walk.through("party_assembly")
    walk.step("villagers_assembly", **meeting(45, 30, 15, 10, 5))     # 15 of 30 is not more than half
    assert walk.matter["status"] == "ended" and walk.matter["closed_on"] == ago(DAYS["villagers_assembly"])
    assert walk.matter["steps"][-1]["outcome"] == "rejected"
    assert outbox(affairs, "matter_resolved") == []
    assert outbox(affairs, "matter_step_recorded")[-1]["data"]["status"] == "ended"
    assert "ended" in refused(walk, "resolution_published")


def test_the_party_assembly_counts_the_majority_of_all_its_members(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting")
    walk.step("party_assembly", **meeting(40, 30, 20, 5, 5))        # 20 of 40 members: not adopted
    assert walk.matter["steps"][-1]["outcome"] == "rejected"


def test_a_voted_down_party_assembly_returns_the_matter_to_the_joint_meeting(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting")
    walk.step("party_assembly", **meeting(40, 30, 10, 18, 2))
    assert walk.matter["status"] == "deliberating" and walk.matter["next_step"] == "joint_meeting"
    assert [(s["step"], s["superseded"]) for s in walk.matter["steps"]] == [
        ("proposal", False), ("joint_meeting", True), ("party_assembly", True)]
    walk.step("joint_meeting", days_ago=88)
    walk.step("party_assembly", days_ago=87)
    assert walk.matter["next_step"] == "villagers_assembly"
    assert walk.step("villagers_assembly")["status"] == "resolved"


def test_a_voted_down_joint_meeting_ends_the_matter(affairs):
    walk = Walk(affairs)
    walk.step("joint_meeting", **meeting(9, 8, 3, 5))
    assert walk.matter["status"] == "ended" and walk.matter["next_step"] is None
    with pytest.raises(Conflict):
        affairs.record_progress(walk.id, {"on": ago(1), "percent": 10, "note": "x",
                                          "recorded_by": "张主任"})


def test_fields_of_another_kind_of_step_are_refused(affairs):
    walk = Walk(affairs)
    cases = [("joint_meeting", {"attendance": None}, "attendance"),
             ("joint_meeting", {"form": "villagers_meeting"}, "form"),
             ("joint_meeting", {"notice_days": 7}, "notice_days"),
             ("joint_meeting", {"as_happened": "yes"}, "as_happened"),
             ("joint_meeting", {"on": "2026-02-30"}, "on")]
    for step, change, field in cases:
        with pytest.raises(InvalidInput) as refusal:
            walk.step(step, **change)
        assert field in refusal.value.errors, (change, refusal.value.errors)
    walk.through("villagers_assembly")
    with pytest.raises(InvalidInput) as refusal:
        walk.step("resolution_published", channels=["billboard"])
    assert "channels" in refusal.value.errors
    with pytest.raises(InvalidInput) as refusal:
        walk.step("resolution_published", **meeting(3, 3, 3))
    assert set(refusal.value.errors) == {"attendance", "votes"}


# -- recorded as it happened: kept, with violations ---------------------------------------------

def test_execution_recorded_before_the_resolution_is_kept_with_a_major_violation(affairs):
    walk = Walk(affairs)
    walk.through("villagers_assembly")
    walk.step("execution", days_ago=80, as_happened=True)
    assert walk.matter["status"] == "executing"
    [violation] = walk.matter["violations"]
    assert (violation["kind"], violation["severity"], violation["step"]) == (
        "execution_before_resolution", "major", "resolution_published")
    assert violation["occurred_on"] == ago(80)
    [event] = outbox(affairs, "procedure_violation_detected")
    assert event["data"]["violation_id"] == violation["id"] and event["data"]["branch_id"] == 12
    assert event["data"]["severity"] == "major" and event["data"]["township_id"] == 2
    assert outbox(affairs, "matter_step_recorded")[-1]["data"]["as_happened"] is True
    walk.step("resolution_published", days_ago=79)      # the missing publication, late
    assert walk.matter["next_step"] == "implementation_published"


def test_a_short_publication_as_it_happened_is_a_minor_violation_and_no_completion_points(affairs):
    walk = Walk(affairs)
    walk.through("villagers_assembly")
    walk.step("resolution_published", notice_days=3, as_happened=True)
    walk.step("execution", days_ago=DAYS["resolution_published"] - 3, as_happened=True)
    kinds = [(v["kind"], v["severity"]) for v in walk.matter["violations"]]
    assert kinds == [("notice_period_short", "minor"), ("notice_period_short", "minor")]
    walk.finish_execution()
    walk.step("implementation_published")
    walk.sign_all()
    walk.step("acceptance")
    [completed] = outbox(affairs, "matter_completed")
    assert completed["data"]["by_procedure"] is False and completed["data"]["violations"] == 2


def test_a_meeting_without_quorum_as_it_happened_is_kept_with_its_votes(affairs):
    walk = Walk(affairs)
    walk.through("party_assembly")
    walk.step("villagers_assembly", as_happened=True, **meeting(45, 20, 18, 1, 1))
    assert walk.matter["steps"][-1]["outcome"] == "adopted"
    assert [v["kind"] for v in walk.matter["violations"]] == ["no_quorum"]
    assert count(affairs, Violation) == 1


def test_a_skip_as_it_happened_names_every_missing_step(affairs):
    walk = Walk(affairs)
    walk.step("villagers_assembly", as_happened=True)
    assert [(v["kind"], v["step"]) for v in walk.matter["violations"]] == [
        ("step_skipped", "joint_meeting"), ("step_skipped", "party_assembly")]
    assert walk.matter["next_step"] == "joint_meeting"
