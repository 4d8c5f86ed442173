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


def refusal(check, *args, **kwargs):
    with pytest.raises(InvalidInput) as refused:
        check(*args, **kwargs)
    return list(refused.value.errors)


def test_inputs_typed_full_width_are_read_as_ascii_and_what_no_column_holds_is_refused():
    assert reports.period("２０２６－１１") == "2026-11" and reports.period("２０２６") == "2026"
    assert reports.a_date("２０２６－０５－２０", "decided_on") == DAY
    for wrong in ("2026-11\n", "2026-11\x00", "0000", "9999-Q1", "2026-1", 202611, "x" * 100_000):
        assert refusal(reports.period, wrong) == ["period"], wrong
    assert refusal(reports.year, 2 ** 70) == ["year"]
    for wrong in (2 ** 63, 0, True, "7"):
        assert refusal(reports.positive_id, wrong, "subject_id") == ["subject_id"]
    assert reports.words(" 县委组织部 ", "closed_by") == "县委组织部"
    for wrong in ("\x1b", "县委\x00", "x" * 101, "  ", 5):
        assert refusal(reports.words, wrong, "closed_by") == ["closed_by"], wrong
    assert refusal(reports.subject_kind, ["member"]) == ["subject_kind"]


def test_subsidy_cadres_are_checked_field_by_field():
    assert reports.subsidy_cadres([{"cadre_id": "村书记-2", "branch_id": 7, "base": "１２００.５"},
                                   {"cadre_id": 3, "branch_id": 8}]) == [
        {"cadre_id": "村书记-2", "branch_id": 7, "base": D("1200.5")},
        {"cadre_id": 3, "branch_id": 8, "base": None}]
    assert refusal(reports.subsidy_cadres, "x") == ["cadres"]
    assert sorted(refusal(reports.subsidy_cadres, [
        {"cadre_id": "a\x00", "branch_id": 2 ** 70, "base": "1e999", "extra": 1},
        {"cadre_id": 1, "branch_id": 1, "base": "NaN"}, 5, {"branch_id": 1}])) == [
        "cadres.0.base", "cadres.0.branch_id", "cadres.0.cadre_id", "cadres.0.extra",
        "cadres.1.base", "cadres.2", "cadres.3.cadre_id"]
