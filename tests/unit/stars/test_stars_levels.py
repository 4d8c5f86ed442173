from datetime import date
from decimal import Decimal

import pytest

from services.stars.levels import children_of, level_for, model_star, rollup, rollup_tree

CHILD = {"branch": "member", "committee": "branch"}


def roll(book, kind, period_kind, own, scores, child_vetoed=()):
    """The roll-up of children given by their scores."""
    return rollup(book, kind, period_kind, own,
                  children_of(book, CHILD[kind], period_kind, scores, child_vetoed))
from services.stars.scoring import Summary, score_event, summarise

D = Decimal
CENT = D("0.01")


@pytest.mark.parametrize("subject_kind", ["member", "branch", "committee"])
@pytest.mark.parametrize("period_kind", ["month", "quarter", "year"])
def test_thresholds_at_every_boundary(default_book, subject_kind, period_kind):
    thresholds = default_book.subjects[subject_kind].thresholds.for_period(period_kind)
    assert level_for(default_book, subject_kind, period_kind, D(-5)) == 0
    assert level_for(default_book, subject_kind, period_kind, 0) == 0
    for stars, minimum in enumerate(thresholds, start=1):
        assert level_for(default_book, subject_kind, period_kind, minimum - CENT) == stars - 1
        assert level_for(default_book, subject_kind, period_kind, minimum) == stars
    assert level_for(default_book, subject_kind, period_kind, thresholds[-1] * 10) == 5


@pytest.mark.parametrize("subject_kind, score, stars", [
    ("member", "9.99", 0), ("member", "10", 1), ("member", "44.99", 3), ("member", "45", 4),
    ("member", "60", 5), ("branch", "39.99", 3), ("branch", "40", 4), ("branch", "52", 5),
    ("committee", "7.99", 0), ("committee", "8", 1), ("committee", "32", 4), ("committee", "40", 5),
])
def test_default_quarterly_thresholds(default_book, subject_kind, score, stars):
    assert level_for(default_book, subject_kind, "quarter", D(score)) == stars


def test_same_score_different_period_kinds(default_book):
    assert level_for(default_book, "member", "month", 20) == 5
    assert level_for(default_book, "member", "quarter", 20) == 2
    assert level_for(default_book, "member", "year", 20) == 0


def test_veto_forces_zero_whatever_the_score(default_book):
    for kind in ("member", "branch", "committee"):
        assert level_for(default_book, kind, "quarter", D(1000), vetoed=True) == 0


def test_unknown_subject_or_period_kind(default_book):
    with pytest.raises(ValueError):
        level_for(default_book, "cadre", "quarter", 1)
    with pytest.raises(ValueError):
        level_for(default_book, "member", "week", 1)


# ---- roll-ups --------------------------------------------------------------------------------

def test_mean_rollup_for_a_branch(book):
    assert roll(book, "branch", "quarter", D(5), {1: D(10), 2: D(20), 3: D("15.5")}) == D("12.58")
    assert roll(book, "branch", "quarter", D(5), {}) == D(5)  # no members


def test_share_at_least_rollup_for_a_committee(book):
    branches = {1: D(40), 2: D(55), 3: D("39.99"), 4: D(100)}  # quarter levels 4, 5, 3, 5
    assert roll(book, "committee", "quarter", D(2), branches) == D("24.50")  # 2 + 30 * 3/4
    assert roll(book, "committee", "quarter", D(2), branches, child_vetoed={4}) == D(17)  # 2/4
    assert roll(book, "committee", "month", D(0), {1: D(5)}) == D(10)  # per-period weight
    assert roll(book, "committee", "year", D(0), {1: D(5)}) == D(0)


def test_sum_rollup_and_subject_without_rollup(spec):
    from services.stars.rulebook import load_rulebook
    spec["subjects"]["branch"]["rollup"] = {"from": "member", "aggregate": "sum", "weight": "0.1"}
    del spec["subjects"]["committee"]["rollup"]
    book = load_rulebook(spec)
    assert roll(book, "branch", "month", D(1), {1: D(10), 2: D(25)}) == D("4.50")
    assert roll(book, "committee", "month", D(3), {1: D(100)}) == D(3)


def test_rollup_tree_bottom_up(book):
    own = {("member", 1): D(30), ("member", 2): D(50), ("branch", 10): D(10),
           ("branch", 20): D(45), ("committee", 100): D(1)}
    totals = rollup_tree(book, "quarter", own, members_of={10: [1, 2], 20: [3]},
                         branches_of={100: [10, 20]})
    assert totals[("member", 3)] == 0
    assert totals[("branch", 10)] == D(30)        # 10 + 0.5 * mean(30, 50)
    assert totals[("branch", 20)] == D(45)        # 45 + 0.5 * 0
    assert totals[("committee", 100)] == D(16)    # 1 + 30 * (1 of 2 branches at >= 4 stars)
    vetoed = rollup_tree(book, "quarter", own, {10: [1, 2], 20: [3]}, {100: [10, 20]},
                         vetoed={("branch", 20)})
    assert vetoed[("committee", 100)] == D(1)


# ---- Model Star -------------------------------------------------------------------------------

def summary(items, counts=None, vetoes=(), deductions=D(0)):
    return Summary("member", 7, "2026", sum(items.values(), D(0)), items, counts or {}, vetoes, deductions)


def test_model_star_awarded_when_every_criterion_holds(book):
    result = model_star(book, "member", 5, summary({"volunteer": D(30)}, {"volunteer": 10, "meeting": 3}))
    assert result.awarded and result.unmet == ()


def test_model_star_lists_every_unmet_criterion(book):
    result = model_star(book, "member", 4, summary({"volunteer": D(20), "absence": D(-3)},
                                                    {"meeting": 2}, vetoes=("violation",),
                                                    deductions=D(-3)))
    assert not result.awarded
    assert result.unmet == ("level 4 is below 5", "veto item recorded: violation",
                            "volunteer: 20.00 points, needs 24.00", "meeting: 2 times, needs 3",
                            "deductions 3.00 exceed 0.00")


def test_model_star_from_a_real_ledger(book):
    ledger = []
    for month in range(1, 13):
        ledger += score_event(book, "members", "activity_recorded",
                              {"member_id": 7, "kind": "volunteer_service", "hours": "10"},
                              date(2026, month, 5))
        ledger += score_event(book, "members", "activity_recorded",
                              {"member_id": 7, "kind": "meeting", "attended": True},
                              date(2026, month, 6))
    year = summarise(book, ledger, "2026")[("member", 7)]
    assert year.score == D(144) and year.counts["meeting"] == 12
    level = level_for(book, "member", "year", year.score, year.vetoed)
    assert level == 3
    assert model_star(book, "member", level, year).unmet == ("level 3 is below 5",)
    assert model_star(book, "member", 5, year).awarded


def test_model_star_without_criteria(book):
    result = model_star(book, "branch", 5, None)
    assert not result.awarded and "no Model Star criteria" in result.unmet[0]


def test_default_model_star_criteria(default_book):
    criteria = default_book.subjects["member"].model_star
    assert criteria.period == "year" and criteria.min_level == 5
    assert criteria.min_points == {"volunteer_service": D(24)}
    assert criteria.min_counts == {"meeting_attendance": 12}
