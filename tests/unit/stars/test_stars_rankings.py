from datetime import datetime
from decimal import Decimal

import pytest

from services.stars.rankings import Standing, rank_of, ranking, rankings_by_scope, top_n

D = Decimal


def at(hour):
    return datetime(2026, 11, 26, hour)


STANDINGS = [
    Standing(1, 3, D("35"), at(9)),
    Standing(2, 4, D("46"), at(10)),
    Standing(3, 4, D("46"), at(8)),     # same level and score as 2, reached earlier
    Standing(4, 4, D("50"), at(12)),
    Standing(5, 5, D("61"), None),
    Standing(6, 4, D("46"), at(8)),     # same as 3 in every way but id
    Standing(7, 4, D("46"), None),      # same level and score, no time known
    Standing(8, 0, D("70"), at(1)),     # vetoed: level 0 beats score
]


def test_order_level_then_score_then_earlier_time_then_id():
    assert [r.subject_id for r in ranking(STANDINGS)] == [5, 4, 3, 6, 2, 7, 1, 8]
    assert [r.position for r in ranking(STANDINGS)] == list(range(1, 9))


def test_ties_are_flagged_for_display():
    flags = {r.subject_id: r.tied_with_previous for r in ranking(STANDINGS)}
    assert flags == {5: False, 4: False, 3: False, 6: True, 2: True, 7: True, 1: False, 8: False}


def test_order_does_not_depend_on_input_order():
    assert [r.subject_id for r in ranking(reversed(STANDINGS))] == [5, 4, 3, 6, 2, 7, 1, 8]


def test_rank_of_and_top_n():
    assert rank_of(STANDINGS, 3) == 3
    assert rank_of(STANDINGS, 99) is None
    assert [r.subject_id for r in top_n(STANDINGS, 3)] == [5, 4, 3]
    assert len(top_n(STANDINGS, 100)) == 8
    assert top_n(STANDINGS, 0) == []
    with pytest.raises(ValueError):
        top_n(STANDINGS, -1)


TOWNSHIP = {1: "A", 2: "B", 3: "A", 4: "B", 5: "A", 6: "B", 7: "A"}  # 8 has no township


def test_scoped_rankings():
    assert [r.subject_id for r in ranking(STANDINGS, scope_of=TOWNSHIP, scope="A")] == [5, 3, 7, 1]
    assert rank_of(STANDINGS, 7, scope_of=TOWNSHIP) == 3                 # within its own township
    assert rank_of(STANDINGS, 7, scope_of=TOWNSHIP, scope="B") is None   # not in B
    assert rank_of(STANDINGS, 8, scope_of=TOWNSHIP) is None
    assert [r.subject_id for r in top_n(STANDINGS, 2, scope_of=TOWNSHIP, scope="B")] == [4, 6]
    by_scope = rankings_by_scope(STANDINGS, TOWNSHIP)
    assert {k: [r.subject_id for r in v] for k, v in by_scope.items()} == {"A": [5, 3, 7, 1],
                                                                            "B": [4, 6, 2]}
