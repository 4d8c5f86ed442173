"""Routing to the lowest level that can settle a matter (pure)."""
import pytest

from services.tickets import routing


@pytest.mark.parametrize("kind,level", [
    ("city_committee", "city"), ("township_committee", "township"), ("street_committee", "township"),
    ("village_branch", "village"), ("community_branch", "village"),
    ("institution_branch", None), ("nonpublic_branch", None),
])
def test_the_level_a_unit_hosts(kind, level):
    assert routing.level_of_unit(kind) == level


@pytest.mark.parametrize("opened_at,matter,settled", [
    ("village", "village", "village"), ("village", "township", "township"),
    ("village", "city", "city"), ("township", "village", "township"),
    ("township", "city", "city"), ("city", "village", "city"),
])
def test_the_settling_level(opened_at, matter, settled):
    assert routing.settling_level(opened_at, matter) == settled

