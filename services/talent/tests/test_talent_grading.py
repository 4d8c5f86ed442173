"""The annual assessment (pure): each source's score and explanation, the total and the grade."""
from dataclasses import replace
from decimal import Decimal

from services.talent import grading, settings

RULES = settings.load({}).assessment
VOTES = {"excellent": 30, "good": 10, "fair": 0, "poor": 0}       # (3000 + 800) / 40 = 95
RECORD = {"due": 4, "on_time": 3, "late": [{"id": 9, "title": "活动场所整改",
                                            "deadline": "2026-06-30", "done_on": None}]}


def star(period, level, score="30.00", rank=2, vetoes=()):
    return {"period": period, "level": level, "score": score, "rank": rank, "vetoes": list(vetoes)}


def test_a_complete_assessment_weighs_each_source_and_grades_the_total():
    result = grading.assess(2026, [star("2026-Q3", 4), star("2026-Q4", 3)], VOTES, RECORD, RULES)
    scores = {s["source"]: s for s in result["sources"]}
    assert scores["service_star"]["score"] == "85.00"          # mean of 90 and 80
    assert "2026-Q3 4 stars" in scores["service_star"]["explanation"]
    assert "not closed yet" in scores["service_star"]["explanation"]
    assert scores["review_votes"]["score"] == "95.00"
    assert "30 excellent x 100" in scores["review_votes"]["explanation"]
    assert scores["rectification_on_time"]["score"] == "75.00"
    assert "#9 活动场所整改 (deadline 2026-06-30, not done)" in scores["rectification_on_time"]["explanation"]
    # 0.4 x 85 + 0.4 x 95 + 0.2 x 75 = 34 + 38 + 15
    assert result["total"] == "87.00" and result["grade"] == "良好" and result["complete"]
    assert result["grade_explanation"] == ("87.00 is at least 75.00 (良好) and below 90.00 (优秀) "
                                           "(assessment.bands)")
    assert sum(Decimal(s["weighted"]) for s in result["sources"]) == Decimal(result["total"])


def test_the_closed_year_outranks_its_quarters_and_a_veto_is_told():
    stars = [star("2026-Q4", 5), star("2026", 0, vetoes=["major_incident"])]
    found, text = grading.service_star(2026, stars, RULES.star_points)
    assert found == 40 and "annual Service Star 2026: 0 stars" in text and "major_incident" in text


def test_missing_sources_leave_the_total_open_and_say_what_they_wait_for():
    result = grading.assess(2026, [star("2025-Q4", 5)], None, {"due": 0, "on_time": 0, "late": []}, RULES)
    assert not result["complete"] and result["total"] is None and result["grade"] is None
    missing = {m["source"]: m["explanation"] for m in result["missing"]}
    assert set(missing) == {"service_star", "review_votes"}
    assert "closes a quarter or the year" in missing["service_star"]
    [rectification] = result["sources"]
    assert rectification["score"] == "100.00"
    assert "no rectification item fell due" in rectification["explanation"]


def test_bands_are_read_highest_first_and_are_configurable():
    assert grading.grade_of(Decimal("90"), RULES.bands)[0] == "优秀"
    assert grading.grade_of(Decimal("89.99"), RULES.bands)[0] == "良好"
    assert grading.grade_of(Decimal("60"), RULES.bands)[0] == "一般"
    grade, text = grading.grade_of(Decimal("59.99"), RULES.bands)
    assert grade == "较差" and "below 60.00 (一般)" in text
    strict = replace(RULES, bands=(("优秀", Decimal(95)), ("较差", Decimal(0))))
    assert grading.assess(2026, [star("2026", 5)], VOTES, RECORD, strict)["grade"] == "较差"
