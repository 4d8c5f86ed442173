"""Execution progress and the supervision committee: sign-offs, objections that block the
acceptance until answered (service methods on PostgreSQL and SQLite, no broker)."""
import pytest

from affairs_walk import DAYS, Walk, ago, local, outbox
from services.affairs.service import AffairsService
from shared import migrate
from shared.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def affairs(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    return local(url, tmp_path / "evidence")


def ready_for_acceptance(affairs):
    walk = Walk(affairs)
    walk.through("implementation_published")
    return walk


def progress(affairs, matter_id, days_ago, percent):
    return affairs.record_progress(matter_id, {"on": ago(days_ago), "percent": percent,
                                               "note": f"完成 {percent}%", "recorded_by": "张主任"})


def test_progress_needs_execution_to_have_started_and_never_goes_down(affairs):
    walk = Walk(affairs)
    walk.through("resolution_published")
    with pytest.raises(Conflict, match="has not started"):
        progress(affairs, walk.id, 70, 10)
    walk.step("execution")
    with pytest.raises(InvalidInput) as refused:
        progress(affairs, walk.id, DAYS["execution"] + 1, 10)
    assert "on" in refused.value.errors
    assert progress(affairs, walk.id, 70, 30)["execution_percent"] == 30
    with pytest.raises(InvalidInput) as refused:
        progress(affairs, walk.id, 69, 20)
    assert "percent" in refused.value.errors
    with pytest.raises(Conflict, match="is at 30 %"):
        walk.step("implementation_published")
    finished = progress(affairs, walk.id, 60, 100)
    assert finished["execution_percent"] == 100 and [p["percent"] for p in finished["progress"]] == [30, 100]
    with pytest.raises(Conflict, match="finished on"):
        progress(affairs, walk.id, 59, 100)
    assert walk.step("implementation_published")["next_step"] == "acceptance"


def test_an_open_objection_blocks_the_acceptance_until_it_is_answered(affairs):
    walk = ready_for_acceptance(affairs)
    walk.sign_all()
    objection = affairs.raise_objection(walk.id, {"step": "execution", "raised_on": ago(45),
                                                  "raised_by": "李监督",
                                                  "reason": "路面厚度未达合同要求"})
    assert objection["open"] is True
    with pytest.raises(Conflict, match="unanswered objection") as refused:
        walk.step("acceptance")
    assert "路面厚度未达合同要求" in str(refused.value)
    assert outbox(affairs, "matter_completed") == []
    with pytest.raises(InvalidInput) as early:
        affairs.answer_objection(objection["id"], {"answered_on": ago(46), "answered_by": "张主任",
                                                   "answer": "已返工"})
    assert "answered_on" in early.value.errors
    answered = affairs.answer_objection(objection["id"], {"answered_on": ago(42),
                                                          "answered_by": "张主任",
                                                          "answer": "已返工加厚至 18 厘米"})
    assert answered["open"] is False and answered["answer"] == "已返工加厚至 18 厘米"
    with pytest.raises(Conflict, match="was answered"):
        affairs.answer_objection(objection["id"], {"answered_on": ago(41), "answered_by": "张主任",
                                                   "answer": "again"})
    assert walk.step("acceptance")["status"] == "completed"
    assert len(outbox(affairs, "matter_completed")) == 1
    with pytest.raises(Conflict, match="completed"):
        affairs.raise_objection(walk.id, {"raised_on": ago(1), "raised_by": "李监督",
                                          "reason": "too late"})


def test_every_step_needs_its_sign_off_before_the_acceptance(affairs):
    walk = ready_for_acceptance(affairs)
    with pytest.raises(Conflict, match="has not signed off proposal, joint_meeting"):
        walk.step("acceptance")
    walk.sign_all()
    with pytest.raises(Conflict, match="already signed off"):
        affairs.sign_off(walk.id, {"step": "execution", "on": ago(40), "signed_by": "李监督"})
    with pytest.raises(InvalidInput) as refused:
        affairs.sign_off(walk.id, {"step": "acceptance", "on": ago(40), "signed_by": "李监督"})
    assert "step" in refused.value.errors
    assert walk.step("acceptance")["status"] == "completed"


def test_a_county_may_accept_without_step_sign_offs(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    affairs = local(url, tmp_path, supervision={"sign_off_every_step": False})
    walk = ready_for_acceptance(affairs)
    assert walk.step("acceptance")["status"] == "completed"


def test_sign_offs_and_objections_refuse_what_does_not_exist(affairs):
    walk = Walk(affairs)
    with pytest.raises(InvalidInput) as refused:
        affairs.sign_off(walk.id, {"step": "party_assembly", "on": ago(1), "signed_by": "李监督"})
    assert "step" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        affairs.sign_off(walk.id, {"step": "proposal", "on": ago(101), "signed_by": "李监督"})
    assert "on" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        affairs.raise_objection(walk.id, {"step": "tea_party", "raised_on": ago(1),
                                          "raised_by": "李监督", "reason": "?"})
    assert "step" in refused.value.errors
    with pytest.raises(NotFound):
        affairs.sign_off(999, {"step": "proposal", "on": ago(1), "signed_by": "李监督"})
    with pytest.raises(NotFound):
        affairs.answer_objection(999, {"answered_on": ago(1), "answered_by": "x", "answer": "y"})
    signed = affairs.sign_off(walk.id, {"step": "proposal", "on": ago(99), "signed_by": "李监督",
                                        "note": "程序合规"})
    assert signed["on"] == ago(99) and signed["note"] == "程序合规"
