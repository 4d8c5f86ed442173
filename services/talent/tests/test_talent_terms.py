"""Profiles and posts: age, standing, which unit holds a role, term ends, who sends a first
secretary (pure rules)."""
from datetime import date

import pytest

from services.talent import profiles, terms


def test_age_counts_completed_years():
    assert profiles.age_on(date(1976, 11, 28), date(2026, 11, 27)) == 49
    assert profiles.age_on(date(1976, 11, 27), date(2026, 11, 27)) == 50


def test_a_members_standing_follows_the_member_record():
    assert profiles.standing(101, "full", True, None) == "full_member"
    assert profiles.standing(101, "probationary", True, None) == "probationary_member"
    assert profiles.standing(101, "full", False, None) == "former_member"
    assert profiles.standing(None, None, None, "activist") == "activist"


def test_a_registered_standing_fits_the_member_link():
    assert profiles.standing_problem(101, None) is None
    assert "leave it out" in profiles.standing_problem(101, "activist")
    assert profiles.standing_problem(None, "non_member") is None
    assert "member_id" in profiles.standing_problem(None, None)


@pytest.mark.parametrize("role, kind, dissolved, ok", [
    ("township_secretary", "township_committee", False, True),
    ("township_secretary", "street_committee", False, True),
    ("township_secretary", "village_branch", False, False),
    ("village_secretary", "village_branch", False, True),
    ("village_secretary", "community_branch", False, False),
    ("first_secretary", "village_branch", True, False),
])
def test_each_role_is_held_in_its_kind_of_unit(role, kind, dissolved, ok):
    assert (terms.unit_problem(role, kind, dissolved) is None) is ok


def test_a_term_ends_the_day_before_its_anniversary():
    assert terms.default_end(date(2026, 3, 1), 5) == date(2031, 2, 28)
    assert terms.default_end(date(2024, 2, 29), 2) == date(2026, 2, 27)


def test_the_city_sends_first_secretaries_to_weak_and_special_villages_the_township_to_others():
    city = ("weak", "special")
    assert terms.sender_of("weak", city) == "city" and terms.sender_of("special", city) == "city"
    assert terms.sender_of("normal", city) == "township"
    assert terms.sender_problem("city", "weak", city) is None
    assert "sent by the township" in terms.sender_problem("city", "normal", city)
    assert "sent by the city" in terms.sender_problem("township", "special", city)


def test_a_post_is_held_from_its_start_until_the_day_it_ended():
    assert terms.is_open(date(2026, 1, 1), None, date(2026, 1, 1))
    assert not terms.is_open(date(2026, 1, 2), None, date(2026, 1, 1))
    assert terms.is_open(date(2026, 1, 1), date(2026, 6, 1), date(2026, 5, 31))
    assert not terms.is_open(date(2026, 1, 1), date(2026, 6, 1), date(2026, 6, 1))
    assert terms.end_problem(date(2026, 1, 2), date(2026, 1, 1))


def test_only_full_members_hold_a_post():
    assert terms.standing_problem("full_member") is None
    for standing in ("probationary_member", "activist", "non_member", "former_member"):
        assert "full Party member" in terms.standing_problem(standing)
