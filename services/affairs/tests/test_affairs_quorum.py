"""Quorum and majority by the configured rule of each meeting form (pure)."""
from fractions import Fraction

import pytest

from services.affairs import powerlist, quorum
from services.affairs.powerlist import Share

RULES = powerlist.settings({})


@pytest.mark.parametrize("members, present, quorate", [
    (45, 30, True), (45, 29, False), (30, 20, True), (30, 19, False), (3, 2, True), (3, 1, False)])
def test_a_representatives_assembly_needs_two_thirds_present(members, present, quorate):
    result = quorum.assess(RULES.meetings["representatives_meeting"], members, present, present)
    assert result.quorate is quorate and result.adopted is quorate
    assert result.quorum_needed == -(-2 * members // 3)


def test_one_short_of_two_thirds_says_why():
    result = quorum.assess(RULES.meetings["representatives_meeting"], 45, 29, 29)
    assert result.reason == ("no quorum: 29 of 45 present, the 村民代表会议 needs at least 2/3 "
                             "of its members present (30)")
    assert result.majority is True and result.adopted is False


@pytest.mark.parametrize("votes_for, adopted", [(16, True), (15, False)])
def test_a_majority_of_those_present_is_more_than_half(votes_for, adopted):
    result = quorum.assess(RULES.meetings["representatives_meeting"], 45, 30, votes_for)
    assert result.adopted is adopted and result.votes_needed == 16


@pytest.mark.parametrize("present, votes_for, adopted", [(21, 21, True), (40, 20, False), (40, 21, True),
                                                         (20, 20, False)])
def test_the_party_assembly_counts_a_majority_of_all_its_members(present, votes_for, adopted):
    assert quorum.assess(RULES.meetings["party_assembly"], 40, present, votes_for).adopted is adopted


def test_shares_at_their_bounds():
    assert Share("at_least", Fraction(2, 3)).needed(45) == 30
    assert Share("more_than", Fraction(1, 2)).needed(40) == 21
    assert Share("more_than", Fraction(1, 2)).needed(41) == 21
    assert Share("at_least", Fraction(0)).needed(7) == 0
    assert Share("more_than", Fraction(2, 3)).met(30, 45) is False


def test_figures_that_contradict_each_other():
    assert quorum.count_problems(10, 11, 0, 0, 0) == {
        "attendance.present": "11 present is more than the 10 members"}
    assert quorum.count_problems(10, 8, 5, 3, 1) == {"votes": "9 votes cast is more than the 8 present"}
    assert quorum.count_problems(10, 8, 5, 2, 1) == {}
