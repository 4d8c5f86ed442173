import time

import pytest

from services.members import orgtree
from shared.errors import Conflict, InvalidInput


@pytest.mark.parametrize("kind, parent", [
    ("city_committee", None),
    ("township_committee", "city_committee"),
    ("street_committee", "city_committee"),
    ("village_branch", "township_committee"),
    ("community_branch", "street_committee"),
    ("institution_branch", "township_committee"),
    ("institution_branch", "city_committee"),
    ("nonpublic_branch", "city_committee"),
    ("nonpublic_branch", "street_committee"),
])
def test_allowed_parents(kind, parent):
    orgtree.check_parent(kind, parent)


@pytest.mark.parametrize("kind, parent", [
    ("city_committee", "city_committee"),
    ("township_committee", None),
    ("township_committee", "township_committee"),
    ("street_committee", "village_branch"),
    ("village_branch", "city_committee"),
    ("community_branch", "city_committee"),
    ("village_branch", None),
    ("village_branch", "village_branch"),
    ("institution_branch", "nonpublic_branch"),
    ("village_branch", "ministry"),
])
def test_refused_parents(kind, parent):
    with pytest.raises(InvalidInput) as caught:
        orgtree.check_parent(kind, parent)
    assert list(caught.value.errors) == ["parent_id"]


def test_unknown_kind():
    with pytest.raises(InvalidInput) as caught:
        orgtree.check_parent("party_group", "city_committee")
    assert list(caught.value.errors) == ["kind"]


def test_categories():
    assert orgtree.category_of("village_branch") == "rural"
    assert orgtree.category_of("community_branch") == "community"
    assert orgtree.category_of("institution_branch") == "institution"
    assert orgtree.category_of("nonpublic_branch") == "nonpublic"
    with pytest.raises(InvalidInput):
        orgtree.category_of("township_committee")
    assert orgtree.is_branch("village_branch")
    assert not orgtree.is_branch("street_committee")
    assert not orgtree.is_branch("city_committee")


def test_move_refuses_cycles():
    # tree: 1 -> 2 -> 3 -> 4
    orgtree.check_move(3, 1, [])
    orgtree.check_move(2, None, [])
    with pytest.raises(InvalidInput) as caught:
        orgtree.check_move(2, 2, [1])
    assert "parent_id" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        orgtree.check_move(2, 4, [3, 2, 1])
    assert "cycle" in caught.value.errors["parent_id"][0]


def test_dissolve():
    orgtree.check_dissolve(0, 0)
    with pytest.raises(Conflict, match="transfer the 12 members first"):
        orgtree.check_dissolve(12, 0)
    with pytest.raises(Conflict, match="transfer the 1 member first"):
        orgtree.check_dissolve(1, 0)
    with pytest.raises(Conflict, match="3 child units"):
        orgtree.check_dissolve(0, 3)
    with pytest.raises(Conflict, match="members first.*child unit"):
        orgtree.check_dissolve(2, 1)


def test_subtree():
    units = [{"id": 1, "parent_id": None}, {"id": 2, "parent_id": 1}, {"id": 3, "parent_id": 1},
             {"id": 4, "parent_id": 2}, {"id": 5, "parent_id": 4}, {"id": 6, "parent_id": 3}]
    assert orgtree.subtree(units, 1) == [1, 2, 3, 4, 6, 5]
    assert sorted(orgtree.subtree(units, 2)) == [2, 4, 5]
    assert orgtree.subtree(units, 6) == [6]
    assert orgtree.subtree(units, 99) == []


def test_subtree_deep_and_wide_is_fast():
    chain = [{"id": 1, "parent_id": None}] + [{"id": i, "parent_id": i - 1} for i in range(2, 10_001)]
    started = time.perf_counter()
    assert len(orgtree.subtree(chain, 1)) == 10_000
    assert orgtree.subtree(chain, 9_999) == [9_999, 10_000]
    wide = [{"id": 0, "parent_id": None}] + [{"id": i, "parent_id": 0} for i in range(1, 10_000)]
    assert len(orgtree.subtree(wide, 0)) == 10_000
    assert time.perf_counter() - started < 1


def test_subtree_survives_a_cycle_in_stored_data():
    units = [{"id": 1, "parent_id": 2}, {"id": 2, "parent_id": 1}]
    assert sorted(orgtree.subtree(units, 1)) == [1, 2]
