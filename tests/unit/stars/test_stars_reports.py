"""Pure parts of the stars answers: which items a sanction may name, dates of sanctions, and how
a closed period's official figures are compared with the live ones."""
from datetime import date
from decimal import Decimal

import pytest

from services.stars import reports
from services.stars.rulebook import load_rulebook
from shared.errors import InvalidInput

D = Decimal
DAY = date(2026, 5, 20)


def place(item, member_id=101):
    return {"member_id": member_id, "branch_id": 12, "township_id": 2, "category": "rural",
            "item": item, "occurred_on": DAY, "reason": "x", "recorded_by": "y"}


def test_the_default_rulebook_scores_a_sanction_into_each_member_veto_and_deduction_item(default_book):
    assert reports.sanction_items(default_book) == [
        "meeting_absence", "organisation_life_refusal", "serious_violation", "study_absence"]
    for item in reports.sanction_items(default_book):
        assert reports.sanction_item_problem(default_book, item, DAY, place(item)) is None


@pytest.mark.parametrize("item, reason", [
    ("volunteer_service", "must be a veto or deduction item of the member rulebook 2026.1"),
    ("major_matter_violation", "must be a veto or deduction item of the member rulebook"),  # branch
    ("no_such_item", "in force on 2026-05-20 (meeting_absence, organisation_life_refusal"),
])
def test_a_sanction_names_a_member_veto_or_deduction_item(default_book, item, reason):
    assert reason in reports.sanction_item_problem(default_book, item, DAY, place(item))


def test_an_item_without_a_sanction_rule_is_refused_rather_than_silently_earning_nothing(spec):
    book = load_rulebook(spec)                     # "violation" is scored by discipline only
    assert reports.sanction_items(book) == []
    problem = reports.sanction_item_problem(book, "violation", DAY, place("violation"))
    assert "has no rule scoring stars.sanction_recorded into violation" in problem
    assert reports.sanction_item_problem(book, "violation", DAY) is None   # no payload: kind only


def test_a_sanction_rule_is_checked_against_the_payload(spec):
    spec["rules"].append({"id": "s", "source": "stars", "type": "sanction_recorded",
                          "when": {"item": "absence", "category": "community"}, "item": "absence",
                          "points": {"fixed": -1}})
    book = load_rulebook(spec)
    assert reports.sanction_items(book) == ["absence"]
    assert "no rule" in reports.sanction_item_problem(book, "absence", DAY, place("absence"))
    community = {**place("absence"), "category": "community"}
    assert reports.sanction_item_problem(book, "absence", DAY, community) is None


@pytest.mark.parametrize("value", ["2026-05-20", date(2026, 5, 20), " 2026-05-20 "])
def test_a_sanction_date_is_an_iso_date(value):
    assert reports.a_date(value, "decided_on") == DAY


@pytest.mark.parametrize("value", ["20260520", "2026-02-30", "yesterday", None, 20260520,
                                   "2026-05-20T10:00:00"])
def test_anything_else_is_refused_naming_the_field(value):
    with pytest.raises(InvalidInput) as refused:
        reports.a_date(value, "decided_on")
    assert refused.value.errors == {"decided_on": ["must be a date like 2026-11-20"]}


def figures(score="13", own="13", level=3, vetoes=(), items=(("volunteer_service", "8", 1),)):
    return {"score": D(score), "own_score": D(own), "level": level, "vetoes": list(vetoes),
            "items": [{"item": code, "points": D(points), "count": count}
                      for code, points, count in items]}


def test_live_figures_differ_by_score_level_vetoes_or_any_item():
    official = figures()
    assert not reports.live_differs(official, figures())
    assert not reports.live_differs(official, figures(score="13.004"))        # shown the same
    assert not reports.live_differs(official, figures(items=(               # a netted-out item
        ("volunteer_service", "8", 1), ("blood_donation", "0", 0))))
    assert reports.live_differs(official, figures(score="15", own="15"))
    assert reports.live_differs(official, figures(level=0, vetoes=["serious_violation"]))
    assert reports.live_differs(official, figures(items=(("volunteer_service", "8", 2),)))


def test_the_note_counts_late_entries_or_says_something_below_changed():
    assert reports.late_note("2026-05", DAY, 1).startswith(
        "1 ledger entry dated in 2026-05 arrived after it closed on 2026-05-20")
    assert reports.late_note("2026-05", DAY, 3).startswith("3 ledger entries dated")
    assert "something below this subject changed" in reports.late_note("2026-Q2", DAY, 0)


def test_frozen_items_are_shown_with_their_rulebook_names_and_deductions(default_book):
    points = {"volunteer_service": D("8.00"), "meeting_absence": D("-2.00"), "gone": D("-1")}
    lines = reports.item_lines(default_book, points, {"volunteer_service": 2, "meeting_absence": 1})
    assert [(l["item"], l["kind"], l["count"]) for l in lines] == [
        ("gone", None, 0), ("meeting_absence", "deduction", 1), ("volunteer_service", "merit", 2)]
    assert reports.deductions_of(default_book, points) == D("-3.00")
    assert reports.rollup_line(default_book, "member", "quarter", D(0)) is None
    assert reports.rollup_line(default_book, "branch", "quarter", D("2.5"))["weight"] == D("0.5")
