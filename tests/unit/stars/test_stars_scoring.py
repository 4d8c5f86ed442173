from datetime import date
from decimal import Decimal

import pytest

from services.stars.rulebook import Condition, Points, load_rulebook
from services.stars.scoring import (apply_caps, capped_points, compensate, compute_points, holds,
                                    matches, round_to, score_event, summarise)

D = Decimal
NOV3 = date(2026, 11, 3)


def activity(**fields):
    payload = {"member_id": 7, "branch_id": 70, "township_id": 700, "category": "rural",
               "activity_id": 1, "hours": None, "team_id": None, "project": None,
               "meeting_kind": None, "attended": None, "amount": None, "households": None}
    payload.update(fields)
    return payload


def points_by_item(entries):
    return {(e["subject_kind"], e["item"]): e["points"] for e in entries}


# ---- conditions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("condition, payload, expected", [
    (Condition("kind", "eq", "meeting"), {"kind": "meeting"}, True),
    (Condition("kind", "eq", "meeting"), {"kind": "study"}, False),
    (Condition("kind", "eq", "meeting"), {}, False),
    (Condition("attended", "eq", True), {"attended": True}, True),
    (Condition("attended", "eq", True), {"attended": 1}, False),
    (Condition("attended", "eq", False), {"attended": None}, False),
    (Condition("attended", "eq", None), {}, True),
    (Condition("households", "eq", 2), {"households": "2"}, True),
    (Condition("households", "eq", 2), {"households": D("2.0")}, True),
    (Condition("households", "eq", 2), {"households": True}, False),
    (Condition("occurred_on", "eq", "2026-11-03"), {"occurred_on": NOV3}, True),
    (Condition("category", "in", ("rural", "community")), {"category": "community"}, True),
    (Condition("category", "in", ("rural", "community")), {"category": "institution"}, False),
    (Condition("hours", "gte", D("1.5")), {"hours": "1.5"}, True),
    (Condition("hours", "gte", D("1.5")), {"hours": D("1.49")}, False),
    (Condition("hours", "gte", D("1.5")), {"hours": None}, False),
    (Condition("hours", "gte", D("1.5")), {"hours": "many"}, False),
    (Condition("hours", "lte", D("8")), {"hours": 8}, True),
    (Condition("hours", "lte", D("8")), {"hours": "8.01"}, False),
    (Condition("team_id", "present", True), {"team_id": 3}, True),
    (Condition("team_id", "present", True), {"team_id": None}, False),
    (Condition("team_id", "present", False), {}, True),
    (Condition("team_id", "present", False), {"team_id": 0}, False),
])
def test_condition_operators(condition, payload, expected):
    assert holds(condition, payload) is expected


def test_all_conditions_must_hold_and_none_is_always_true():
    both = (Condition("kind", "eq", "meeting"), Condition("attended", "eq", True))
    assert matches(both, {"kind": "meeting", "attended": True})
    assert not matches(both, {"kind": "meeting", "attended": False})
    assert matches((), {})


def test_several_operators_on_one_field_all_apply(spec):
    spec["rules"][0]["when"]["hours"] = {"gte": 1, "lte": 4}
    book = load_rulebook(spec)
    scored = [bool(score_event(book, "members", "activity_recorded",
                               activity(kind="volunteer_service", hours=h), NOV3))
              for h in ("0.5", "1", "4", "4.5")]
    assert scored == [False, True, True, False]


# ---- points, units and rounding ------------------------------------------------------------------

def test_round_to_any_quantum():
    assert round_to(D("2.7"), D("0.5"), "down") == D("2.5")
    assert round_to(D("2.75"), D("0.5"), "half_up") == D("3.0")
    assert round_to(D("2.74"), D("0.5"), "half_up") == D("2.5")
    assert round_to(D("2.1"), D("0.5"), "up") == D("2.5")
    assert round_to(D("0.125"), D("0.01"), "half_even") == D("0.12")
    assert round_to(D("0.125"), D("0.01"), "half_up") == D("0.13")
    assert round_to(D("-2.7"), D("0.5"), "down") == D("-2.5")
    assert round_to(D("-2.7"), D("0.5"), "floor") == D("-3.0")
    assert round_to(D("-2.1"), D("1"), "ceiling") == D("-2")


def test_per_unit_points_with_units_whole_units_and_max():
    per_100 = Points(per="amount", amount=D(1), unit=D(100), whole_units=True, max_per_event=D(5))
    assert compute_points(per_100, {"amount": "99.99"}) == 0
    assert compute_points(per_100, {"amount": "250"}) == 2
    assert compute_points(per_100, {"amount": D("10000")}) == 5
    fractional = Points(per="amount", amount=D(1), unit=D(100))
    assert compute_points(fractional, {"amount": "250"}) == D("2.5")
    assert compute_points(fractional, {"amount": None}) is None
    assert compute_points(Points(fixed=D("0.5")), {}) == D("0.5")
    deduction = Points(fixed=D(-9), max_per_event=D(5))
    assert compute_points(deduction, {}) == -5
    with pytest.raises(ValueError, match="'amount' is not a number"):
        compute_points(fractional, {"amount": "a lot"})
    with pytest.raises(ValueError, match="'amount' is negative"):
        compute_points(fractional, {"amount": "-5"})


def test_default_volunteer_hours_round_down_to_half_hours(default_book):
    def volunteer_points(hours):
        entries = score_event(default_book, "members", "activity_recorded",
                              activity(kind="volunteer_service", hours=hours), NOV3)
        return points_by_item(entries).get(("member", "volunteer_service"))
    assert volunteer_points("2.7") == D("2.5")
    assert volunteer_points("3") == D("3")
    assert volunteer_points("0.4") is None  # rounds to 0: no entry
    assert volunteer_points("12") == D("8")  # max_per_event
    assert volunteer_points(None) is None


def test_default_donation_counts_full_hundreds(default_book):
    entries = score_event(default_book, "members", "activity_recorded",
                          activity(kind="donation", amount="380.00"), NOV3)
    assert points_by_item(entries) == {("member", "donation"): D(3)}


# ---- rules: conditions on category, subjects, several entries per event -------------------------

def test_one_event_credits_member_branch_and_committee(default_book):
    entries = score_event(default_book, "members", "activity_recorded",
                          activity(kind="meeting", meeting_kind="branch_assembly", attended=True), NOV3)
    assert points_by_item(entries) == {("member", "meeting_attendance"): D(2),
                                       ("branch", "organisation_life"): D("0.2")}
    member = next(e for e in entries if e["subject_kind"] == "member")
    assert member == {"subject_kind": "member", "subject_id": 7, "item": "meeting_attendance",
                      "points": D(2), "count": 1, "rule_id": "member-meeting-attended",
                      "rule_version": "2026.1", "source": "members", "type": "activity_recorded",
                      "occurred_on": NOV3}
    assert next(e for e in entries if e["subject_kind"] == "branch")["subject_id"] == 70


def test_category_items_only_for_their_category(default_book):
    def items(category):
        entries = score_event(default_book, "members", "activity_recorded",
                              activity(kind="pairing", households=3, category=category), NOV3)
        return points_by_item(entries)
    assert items("rural") == {("member", "household_pairing"): D(6), ("branch", "village_pairing"): D("1.5")}
    assert items("nonpublic") == {("member", "enterprise_pairing"): D("4.5"),
                                  ("branch", "nonpublic_pairing"): D("1.5")}
    assert items("community") == {}
    assert items("institution") == {}


def test_absent_subject_id_skips_the_rule(default_book):
    entries = score_event(default_book, "members", "activity_recorded",
                          activity(kind="volunteer_service", hours="10", township_id=None), NOV3)
    assert ("committee", "township_volunteering") not in points_by_item(entries)
    entries = score_event(default_book, "members", "activity_recorded",
                          activity(kind="volunteer_service", hours="10"), NOV3)
    assert points_by_item(entries)[("committee", "township_volunteering")] == D("0.20")


def test_unknown_event_earns_nothing(default_book):
    assert score_event(default_book, "tickets", "ticket_resolved", {"agent_member_id": 7}, NOV3) == []
    assert score_event(default_book, "members", "member_registered", activity(), NOV3) == []


def test_never_seen_event_type_earns_credit_through_a_rule_alone(spec):
    spec["rules"].append({
        "id": "proxy-agent-ticket", "source": "tickets", "type": "ticket_resolved",
        "when": {"settled_at": {"in": ["village", "township"]}, "satisfaction": {"gte": 4}},
        "item": "volunteer", "subject_field": "agent_member_id",
        "points": {"fixed": 1.5}})
    book = load_rulebook(spec)
    payload = {"ticket_id": 99, "agent_member_id": 7, "settled_at": "village", "satisfaction": 5}
    entries = score_event(book, "tickets", "ticket_resolved", payload, "2026-05-04")
    assert entries == [{"subject_kind": "member", "subject_id": 7, "item": "volunteer",
                        "points": D("1.5"), "count": 1, "rule_id": "proxy-agent-ticket",
                        "rule_version": "test-1", "source": "tickets", "type": "ticket_resolved",
                        "occurred_on": date(2026, 5, 4)}]
    assert score_event(book, "tickets", "ticket_resolved", dict(payload, satisfaction=3), "2026-05-04") == []


def test_deduction_rule_gives_negative_points(book):
    entries = score_event(book, "members", "activity_recorded", activity(kind="meeting", attended=False), NOV3)
    assert points_by_item(entries) == {("member", "absence"): D(-3)}


def test_veto_rule_with_zero_points_still_writes_an_entry(book):
    entries = score_event(book, "discipline", "sanction_imposed", {"member_id": 7}, NOV3)
    assert [(e["item"], e["points"]) for e in entries] == [("violation", D(0))]


# ---- caps and revocations ------------------------------------------------------------------------

def volunteer(book, hours, day=NOV3, member_id=7):
    return score_event(book, "members", "activity_recorded",
                       activity(kind="volunteer_service", hours=hours, member_id=member_id), day)


def test_monthly_cap_per_item_per_subject_per_month(book):
    ledger = volunteer(book, "6") + volunteer(book, "7") + volunteer(book, "3", member_id=8) \
        + volunteer(book, "6", day=date(2026, 12, 1))
    caps = apply_caps(book, ledger)
    assert caps == {("member", 7, "volunteer", "2026-11"): D(10),
                    ("member", 8, "volunteer", "2026-11"): D(3),
                    ("member", 7, "volunteer", "2026-12"): D(6)}
    quarter = summarise(book, ledger, "2026-Q4")
    assert quarter[("member", 7)].score == D(16)
    assert quarter[("member", 7)].items == {"volunteer": D(16)}
    assert quarter[("member", 7)].counts == {"volunteer": 3}


def test_capped_points_and_revocation_after_a_cap(book):
    assert capped_points(book, "volunteer", D(8), D(5)) == D(2)
    assert capped_points(book, "volunteer", D(13), D(-5)) == D(-2)
    assert capped_points(book, "volunteer", D(13), D(2)) == D(0)
    assert capped_points(book, "meeting", D(100), D(2)) == D(2)  # uncapped item
    assert capped_points(book, "absence", D(-3), D(-3)) == D(-1)  # deduction cap is a magnitude

    first, second, third = volunteer(book, "8"), volunteer(book, "5"), volunteer(book, "4")
    before = summarise(book, first + third, "2026-11")[("member", 7)]
    ledger = first + second + third
    assert summarise(book, ledger, "2026-11")[("member", 7)].score == D(10)
    ledger += compensate(second)
    after = summarise(book, ledger, "2026-11")[("member", 7)]
    assert after.score == before.score == D(10)
    ledger += compensate(third)
    assert summarise(book, ledger, "2026-11")[("member", 7)].score == D(8)
    ledger += compensate(first)
    emptied = summarise(book, ledger, "2026-11")[("member", 7)]
    assert emptied.score == 0 and emptied.counts == {"volunteer": 0}


def test_compensation_negates_points_and_count_and_keeps_everything_else(book):
    original = volunteer(book, "2")
    reverse = compensate(original)
    assert reverse[0]["points"] == D(-2) and reverse[0]["count"] == -1
    assert {k: v for k, v in reverse[0].items() if k not in ("points", "count")} == \
        {k: v for k, v in original[0].items() if k not in ("points", "count")}
    assert compensate(reverse) == original
    assert original[0]["points"] == D(2)  # input untouched


def test_deductions_are_capped_and_summed(book):
    missed = [e for _ in range(3) for e in score_event(
        book, "members", "activity_recorded", activity(kind="meeting", attended=False), NOV3)]
    summary = summarise(book, missed + volunteer(book, "9"), "2026-11")[("member", 7)]
    assert summary.items == {"absence": D(-4), "volunteer": D(9)}
    assert summary.deductions == D(-4)
    assert summary.score == D(5)


def test_veto_in_period_and_its_revocation(book):
    veto = score_event(book, "discipline", "sanction_imposed", {"member_id": 7}, date(2026, 2, 10))
    ledger = volunteer(book, "9", day=date(2026, 1, 5)) + veto
    assert summarise(book, ledger, "2026-02")[("member", 7)].vetoes == ("violation",)
    assert summarise(book, ledger, "2026-Q1")[("member", 7)].vetoed
    assert summarise(book, ledger, "2026")[("member", 7)].vetoed
    assert not summarise(book, ledger, "2026-01")[("member", 7)].vetoed
    assert ("member", 7) not in summarise(book, ledger, "2026-Q2")
    ledger += compensate(veto)
    assert not summarise(book, ledger, "2026-Q1")[("member", 7)].vetoed


def test_period_boundaries_and_year_end_reset(book):
    ledger = (volunteer(book, "3", day=date(2026, 3, 31)) + volunteer(book, "4", day=date(2026, 4, 1))
              + volunteer(book, "5", day=date(2026, 12, 31)) + volunteer(book, "2", day=date(2027, 1, 1)))
    score = {key: summarise(book, ledger, key)[("member", 7)].score
             for key in ("2026-03", "2026-Q1", "2026-Q2", "2026-Q4", "2026", "2027-Q1", "2027")}
    assert score == {"2026-03": 3, "2026-Q1": 3, "2026-Q2": 4, "2026-Q4": 5, "2026": 12,
                     "2027-Q1": 2, "2027": 2}
    assert summarise(book, ledger, "2027-02") == {}


def test_caps_use_the_rulebook_in_force_each_month(spec):
    first = load_rulebook(spec)
    spec["version"], spec["effective_from"] = "test-2", "2026-07-01"
    spec["subjects"]["member"]["items"]["volunteer"]["monthly_cap"] = 4
    second = load_rulebook(spec)
    ledger = volunteer(first, "9", day=date(2026, 6, 30)) + volunteer(second, "9", day=date(2026, 7, 1))
    year = summarise([first, second], ledger, "2026")[("member", 7)]
    assert year.score == D(13)


def test_entries_from_storage_with_iso_dates_and_string_points(book):
    stored = [dict(e, occurred_on=e["occurred_on"].isoformat(), points=str(e["points"]))
              for e in volunteer(book, "3")]
    assert summarise(book, stored, "2026-11")[("member", 7)].score == D(3)
