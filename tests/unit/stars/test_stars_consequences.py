from decimal import Decimal

import pytest

from services.stars.consequences import (award_priority, subsidy_factor, subsidy_report,
                                         unqualified_review)
from services.stars.rankings import Standing

D = Decimal

MEMBERS = [
    Standing(1, 5, D(62)), Standing(2, 4, D(45)), Standing(3, 3, D(44)), Standing(4, 2, D(25)),
    Standing(5, 1, D(12)), Standing(6, 0, D(3)), Standing(7, 0, D(80), vetoes=("serious_violation",)),
    Standing(8, 4, D(50)),
]


def test_award_priority_lists_4_and_5_stars_in_ranking_order(default_book):
    listed = award_priority(default_book, MEMBERS, "2026")
    assert [entry.subject_id for entry in listed] == [1, 8, 2]
    assert listed[0].reasons == ("2026: 5 stars, award priority from 4 stars (position 1)",)


def test_unqualified_review_lists_0_and_1_stars_with_reasons(default_book):
    listed = unqualified_review(default_book, MEMBERS, "2026")
    assert [entry.subject_id for entry in listed] == [6, 7, 5]
    vetoed = next(entry for entry in listed if entry.subject_id == 7)
    assert vetoed.reasons == ("2026: 0 stars, review at 1 stars or fewer (score 80)",
                              "veto item serious_violation (受到党纪政务处分或违法犯罪) recorded")


def test_consequence_thresholds_come_from_the_rulebook(spec):
    from services.stars.rulebook import load_rulebook
    spec["consequences"] = {"award_priority": {"min_level": 5}, "unqualified_review": {"max_level": 0}}
    book = load_rulebook(spec)
    assert [e.subject_id for e in award_priority(book, MEMBERS, "2026")] == [1]
    assert [e.subject_id for e in unqualified_review(book, MEMBERS, "2026")] == [6, 7]


@pytest.mark.parametrize("level, factor", [(5, "1.2"), (4, "1.1"), (3, "1.0"), (2, "0.9"),
                                           (1, "0.8"), (0, "0.7")])
def test_default_subsidy_factors(default_book, level, factor):
    assert subsidy_factor(default_book, level) == D(factor)


def test_subsidy_report_rounds_to_the_cent(default_book):
    cadres = [{"cadre_id": "c1", "branch_id": 10}, {"cadre_id": "c2", "branch_id": 20},
              {"cadre_id": "c3", "branch_id": 30, "base": "3333.33"},
              {"cadre_id": "c4", "branch_id": 40}, {"cadre_id": "c5", "branch_id": 99}]
    levels = {10: 5, 20: 3, 30: 4, 40: 0}
    lines = subsidy_report(default_book, cadres, levels, "2026")
    assert [(line.cadre_id, line.level, line.amount) for line in lines] == [
        ("c1", 5, D("7200.00")), ("c2", 3, D("6000.00")), ("c3", 4, D("3666.66")),
        ("c4", 0, D("4200.00")), ("c5", None, None)]
    assert lines[2].amount == (D("3333.33") * D("1.1")).quantize(D("0.01"))  # 3666.663 -> .66
    assert "bonus" in lines[0].note and "deduction" in lines[3].note and "no change" in lines[1].note
    assert lines[4].note == "branch 99 has no star level for 2026"
    assert all(isinstance(line.amount, Decimal) for line in lines[:4])


def test_subsidy_half_up_rounding(default_book):
    line, = subsidy_report(default_book, [{"cadre_id": 1, "branch_id": 1, "base": "0.05"}], {1: 4})
    assert line.amount == D("0.06")  # 0.055 -> 0.06


def test_subsidy_errors(spec):
    from services.stars.rulebook import load_rulebook
    del spec["subsidy"]
    book = load_rulebook(spec)
    with pytest.raises(ValueError, match="no subsidy settings"):
        subsidy_report(book, [], {})
    with pytest.raises(ValueError, match="no subsidy settings"):
        subsidy_factor(book, 3)
