from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from services.members import development as dev
from services.members import schemas
from shared.errors import Conflict, InvalidInput

CFG = {}
D0 = date(2022, 3, 1)
GOOD_VOTE = {"eligible": 20, "present": 15, "in_favour": 12, "against": 2, "abstain": 1}
STEP_DATA = {
    "application": {"application_date": "2022-03-01"},
    "recommendation": {"recommended_by": "members", "recommenders": ["张三", "李四"]},
    "training_record": {"trainer": "镇党校", "content": "党章学习"},
    "target_selection": {"branch_committee_approved": True},
    "public_notice": {"start": None, "end": None, "objections": 0},
    "vote": GOOD_VOTE,
    "pre_review": {"reviewer_unit": "旧城镇党委", "approved": True},
    "admission": {"introducers": ["张三", "王五"]},
    "confirmation": {"vote": GOOD_VOTE, "approved": True},
}


def days(n):
    return timedelta(days=n)


def step(history, name, on, data=None, by="支部书记 刘明", config=CFG):
    entry = dev.apply(history, name, on, by, STEP_DATA[name] if data is None else data, config)
    history.append(entry)
    return entry


def notice(start, end, objections=0, **more):
    return {"start": start.isoformat(), "end": end.isoformat(), "objections": objections, **more}


def to_target():
    h = []
    step(h, "application", D0)
    step(h, "recommendation", D0 + days(30))
    step(h, "training_record", D0 + days(100))
    step(h, "target_selection", D0 + days(395))
    return h


def to_probationary():
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t + days(1), t + days(5)))
    step(h, "vote", t + days(12))
    step(h, "pre_review", t + days(20))
    step(h, "admission", t + days(30))
    return h


def conflict(history, name, on, data=None, config=CFG):
    with pytest.raises(Conflict) as caught:
        dev.apply(history, name, on, "x", STEP_DATA[name] if data is None else data, config)
    return str(caught.value)


def invalid(history, name, on, data, by="x"):
    with pytest.raises(InvalidInput) as caught:
        dev.apply(history, name, on, by, data, CFG)
    return caught.value.errors


def test_happy_path_to_full_member():
    h = to_probationary()
    admitted = h[-1]
    assert admitted["stage_before"] == "development_target" and admitted["stage_after"] == "probationary"
    last = step(h, "confirmation", admitted["on"] + days(365))
    assert last == {"step": "confirmation", "on": admitted["on"] + days(365), "by": "支部书记 刘明",
                    "data": STEP_DATA["confirmation"], "stage_before": "probationary", "stage_after": "full",
                    "result": "passed"}
    assert dev.stage_of(h) == "full"
    assert dev.next_steps(h) == []
    assert [e["stage_after"] for e in h] == [
        "applicant", "activist", "activist", "development_target", "development_target", "development_target",
        "development_target", "probationary", "full"]
    assert "complete" in conflict(h, "confirmation", last["on"] + days(1))


def test_entries_are_json_safe():
    h = to_probationary()
    assert h[4]["data"]["start"] == (D0 + days(396)).isoformat()
    assert h[4]["data"]["objections_resolved"] is False
    assert isinstance(h[0]["on"], date)


def test_history_read_back_with_string_dates():
    h = [dict(e, on=e["on"].isoformat()) for e in to_target()]
    assert dev.next_steps(h) == ["public_notice"]
    t = D0 + days(395)
    entry = dev.apply(h, "public_notice", t + days(10), "x", notice(t, t + days(4)), CFG)
    assert entry["result"] == "passed"


def test_next_steps_by_stage():
    assert dev.stage_of([]) is None
    assert dev.next_steps([]) == ["application"]
    h = []
    step(h, "application", D0)
    assert dev.next_steps(h) == ["recommendation"]
    step(h, "recommendation", D0 + days(30))
    assert dev.next_steps(h) == ["training_record", "target_selection"]


@pytest.mark.parametrize("name", ["recommendation", "vote", "admission", "confirmation", "training_record"])
def test_out_of_order_before_application(name):
    assert "expected next: application" in conflict([], name, D0)


def test_out_of_order_names_expected_step():
    h = to_target()
    t = D0 + days(395)
    assert "expected next: public_notice" in conflict(h, "vote", t + days(10))
    assert "expected next: public_notice" in conflict(h, "admission", t + days(10))
    assert "expected next: public_notice" in conflict(h, "training_record", t + days(10))
    assert "application" in conflict(h, "application", t + days(10))
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    assert "expected next: vote" in conflict(h, "pre_review", t + days(11))
    step(h, "vote", t + days(12))
    assert "expected next: pre_review" in conflict(h, "admission", t + days(13))
    step(h, "pre_review", t + days(14))
    assert "expected next: admission" in conflict(h, "confirmation", t + days(15))


def test_recommendation_too_early_counts_from_application_date():
    h = []
    step(h, "application", D0 + days(10), {"application_date": D0.isoformat()})
    message = conflict(h, "recommendation", D0 + days(29))
    assert "earliest allowed date is 2022-03-31" in message and "30 days after application" in message
    assert step(h, "recommendation", D0 + days(30))["stage_after"] == "activist"


def test_target_selection_waits_a_year_after_recommendation():
    h = []
    step(h, "application", D0)
    step(h, "recommendation", D0 + days(40))
    message = conflict(h, "target_selection", D0 + days(404))
    assert f"earliest allowed date is {(D0 + days(405)).isoformat()}" in message
    step(h, "target_selection", D0 + days(405))


def test_waits_are_configurable():
    h = []
    step(h, "application", D0, config={"applicant_min_days": 0})
    step(h, "recommendation", D0, config={"applicant_min_days": 0})
    step(h, "target_selection", D0 + days(180), config={"activist_min_days": 180})
    with pytest.raises(ValueError, match="unknown development config keys: activist_days"):
        dev.apply(h, "public_notice", D0, "x", {}, {"activist_days": 1})


def test_step_before_last_recorded_step():
    h = []
    step(h, "application", D0)
    step(h, "recommendation", D0 + days(60))
    message = conflict(h, "training_record", D0 + days(59))
    assert "before the last recorded step" in message and (D0 + days(60)).isoformat() in message


def test_confirmation_waits_for_probation():
    h = to_probationary()
    admitted = h[-1]["on"]
    message = conflict(h, "confirmation", admitted + days(364))
    assert f"earliest allowed date is {(admitted + days(365)).isoformat()}" in message


def test_bad_step_by_and_on():
    assert list(invalid([], "interview", D0, {})) == ["step"]
    assert list(invalid([], "full_record", D0, {})) == ["step"]
    assert list(invalid([], "application", D0, STEP_DATA["application"], by="  ")) == ["by"]
    assert list(invalid([], "application", "2022-13-01", STEP_DATA["application"])) == ["on"]
    assert list(invalid([], "application", 20220301, STEP_DATA["application"])) == ["on"]


def test_application_data():
    assert invalid([], "application", D0, {}) == {"data.application_date": ["Missing data for required field."]}
    assert "data.application_date" in invalid([], "application", D0, {"application_date": "2022-03-02"})
    assert invalid([], "application", D0, []) == {"data": ["must be an object"]}


def test_recommendation_data():
    h = []
    step(h, "application", D0)
    on = D0 + days(30)
    errors = invalid(h, "recommendation", on, {"recommended_by": "self", "recommenders": []})
    assert set(errors) == {"data.recommended_by", "data.recommenders"}
    errors = invalid(h, "recommendation", on, {"recommended_by": "group", "recommenders": ["张三", " "]})
    assert set(errors) == {"data.recommenders.1"}
    errors = invalid(h, "recommendation", on, {"recommended_by": "group", "recommenders": ["张三"], "x": 1})
    assert set(errors) == {"data.x"}


def test_target_selection_needs_committee_approval():
    h = []
    step(h, "application", D0)
    step(h, "recommendation", D0 + days(30))
    errors = invalid(h, "target_selection", D0 + days(400), {"branch_committee_approved": False})
    assert list(errors) == ["data.branch_committee_approved"]


def test_notice_rules():
    h = to_target()
    t = D0 + days(395)
    on = t + days(20)
    errors = invalid(h, "public_notice", on, notice(t + days(1), t + days(4)))
    assert list(errors) == ["data.end"] and "5 calendar days" in errors["data.end"][0]
    assert list(invalid(h, "public_notice", on, notice(t + days(4), t + days(1)))) == ["data.end"]
    assert list(invalid(h, "public_notice", t + days(5), notice(t + days(1), t + days(6)))) == ["data.end"]
    assert list(invalid(h, "public_notice", on, notice(t - days(1), t + days(4)))) == ["data.start"]
    assert list(invalid(h, "public_notice", on, notice(t, t + days(4), objections=-1))) == ["data.objections"]
    assert dev.apply(h, "public_notice", on, "x", notice(t, t + days(2)), {"notice_min_days": 3})["result"] == "passed"


def test_notice_with_objections_must_be_repeated_or_resolved():
    h = to_target()
    t = D0 + days(395)
    first = step(h, "public_notice", t + days(10), notice(t, t + days(6), objections=2))
    assert first["result"] == "rejected" and first["stage_after"] == "development_target"
    assert dev.next_steps(h) == ["public_notice"]
    second = step(h, "public_notice", t + days(20), notice(t + days(11), t + days(18), objections=2,
                                                          objections_resolved=True))
    assert second["result"] == "passed"
    assert dev.next_steps(h) == ["vote"]


@pytest.mark.parametrize("vote, field", [
    ({"eligible": 10, "present": 11, "in_favour": 11, "against": 0, "abstain": 0}, "data.present"),
    ({"eligible": 10, "present": 8, "in_favour": 6, "against": 1, "abstain": 0}, "data.present"),
    ({"eligible": 0, "present": 0, "in_favour": 0, "against": 0, "abstain": 0}, "data.eligible"),
    ({"eligible": 10, "present": 8, "in_favour": -1, "against": 9, "abstain": 0}, "data.in_favour"),
    ({"eligible": 10, "present": 8, "in_favour": 8, "against": 0}, "data.abstain"),
    ({"eligible": 10, "present": 8.5, "in_favour": 8, "against": 0, "abstain": 0}, "data.present"),
])
def test_bad_vote_counts(vote, field):
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    assert field in invalid(h, "vote", t + days(11), vote)


@pytest.mark.parametrize("eligible, present, in_favour, result", [
    (20, 11, 11, "passed"),
    (20, 10, 10, "rejected"),   # exactly half present: no quorum
    (20, 20, 10, "rejected"),   # half of eligible in favour is not more than half
    (20, 15, 11, "passed"),
    (21, 11, 11, "passed"),
    (21, 15, 10, "rejected"),
    (3, 2, 2, "passed"),
])
def test_vote_thresholds(eligible, present, in_favour, result):
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    vote = {"eligible": eligible, "present": present, "in_favour": in_favour, "against": present - in_favour,
            "abstain": 0}
    entry = step(h, "vote", t + days(11), vote)
    assert entry["result"] == result
    assert dev.next_steps(h) == (["pre_review"] if result == "passed" else ["vote"])


def test_failed_vote_then_revote():
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    failed = step(h, "vote", t + days(11), {"eligible": 20, "present": 12, "in_favour": 8, "against": 4,
                                             "abstain": 0})
    assert failed["result"] == "rejected" and failed["stage_after"] == "development_target"
    assert "expected next: vote" in conflict(h, "pre_review", t + days(12))
    step(h, "vote", t + days(40))
    step(h, "pre_review", t + days(41))
    assert dev.next_steps(h) == ["admission"]


def test_stricter_configured_majority():
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    entry = step(h, "vote", t + days(11), config={"vote_majority_of_eligible": 2 / 3})
    assert entry["result"] == "rejected"  # 12 of 20 is not more than two thirds


def test_refused_pre_review_blocks_admission():
    h = to_target()
    t = D0 + days(395)
    step(h, "public_notice", t + days(10), notice(t, t + days(4)))
    step(h, "vote", t + days(11))
    refused = step(h, "pre_review", t + days(12), {"reviewer_unit": "旧城镇党委", "approved": False})
    assert refused["result"] == "rejected"
    assert "expected next: pre_review" in conflict(h, "admission", t + days(13))
    assert list(invalid(h, "pre_review", t + days(13), {"approved": True})) == ["data.reviewer_unit"]


@pytest.mark.parametrize("introducers", [[], ["张三"], ["张三", "张三"], ["张三", "李四", "王五"]])
def test_admission_needs_two_introducers(introducers):
    h = to_probationary()[:-1]
    assert list(invalid(h, "admission", h[-1]["on"], {"introducers": introducers})) == ["data.introducers"]


def test_confirmation_rejected_then_passed():
    h = to_probationary()
    on = h[-1]["on"] + days(365)
    bad_vote = dict(GOOD_VOTE, in_favour=9, against=5)
    assert step(h, "confirmation", on, {"vote": bad_vote, "approved": True})["result"] == "rejected"
    assert step(h, "confirmation", on + days(1), {"vote": GOOD_VOTE, "approved": False})["result"] == "rejected"
    assert dev.stage_of(h) == "probationary"
    assert "data.vote.present" in invalid(h, "confirmation", on + days(2),
                                          {"vote": dict(GOOD_VOTE, present=16), "approved": True})
    step(h, "confirmation", on + days(200))
    assert dev.stage_of(h) == "full"


def test_record_documents_controls_and_responsible_people():
    h = to_probationary()
    step(h, "confirmation", h[-1]["on"] + days(365), by="组织委员 赵敏")
    rec = dev.record(h)
    assert [r["no"] for r in rec] == list(range(1, 10))
    assert rec[1]["control"] == "recommendation (推荐制)"
    assert rec[4]["control"] == "public notice (公示制)"
    assert rec[5]["control"] == "vote (票决制)"
    assert rec[6]["control"] == "pre-review (预审制)"
    assert rec[7]["control"] == "accountability (责任追究制)"
    assert rec[0]["responsible"] == ["支部书记 刘明"]
    assert rec[7]["responsible"] == ["支部书记 刘明", "张三", "王五"]
    assert rec[8]["responsible"] == ["组织委员 赵敏", "张三", "王五"]
    assert all(r["by"] and r["on"] for r in rec)


def test_overdue():
    today = D0 + days(30 + 90)
    h = []
    assert dev.overdue(h, today, CFG) is None
    step(h, "application", D0)
    assert dev.overdue(h, today, CFG) is None
    assert dev.overdue(h, today + days(1), CFG) == {"expected_step": "recommendation", "due_since": D0 + days(30)}
    step(h, "recommendation", D0 + days(100))
    assert dev.overdue(h, D0 + days(100 + 365 + 90), CFG) is None
    assert dev.overdue(h, D0 + days(100 + 365 + 91), CFG) == {
        "expected_step": "target_selection", "due_since": D0 + days(465)}
    assert dev.overdue(h, D0 + days(100 + 365 + 11), {"overdue_grace_days": 10})["expected_step"] == "target_selection"


def test_overdue_development_target_and_probation():
    h = to_target()
    t = h[-1]["on"]
    assert dev.overdue(h, t + days(91), CFG) == {"expected_step": "public_notice", "due_since": t}
    h = to_probationary()
    admitted = h[-1]["on"]
    assert dev.overdue(h, admitted + days(455), CFG) is None
    assert dev.overdue(h, admitted + days(456), CFG) == {"expected_step": "confirmation",
                                                         "due_since": admitted + days(365)}
    step(h, "confirmation", admitted + days(400), {"vote": GOOD_VOTE, "approved": False})
    assert dev.overdue(h, admitted + days(456), CFG) is None
    assert dev.overdue(h, admitted + days(491), CFG)["due_since"] == admitted + days(400)
    step(h, "confirmation", admitted + days(500))
    assert dev.overdue(h, admitted + days(5000), CFG) is None


def test_earliest():
    h = []
    step(h, "application", D0)
    assert dev.earliest(h, "recommendation") == D0 + days(30)
    assert dev.earliest([], "application") is None


def test_config_file_matches_defaults():
    path = Path(__file__).resolve().parents[3] / "config" / "members.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["development"] == dev.WAITS
    assert config["activities"] == {"max_age_days": schemas.ACTIVITY_MAX_AGE_DAYS}
