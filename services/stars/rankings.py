"""Published rankings (网站、公众号、党员活动室、公开栏) by star level and score.

Order (deterministic, documented for the public):

1. level, highest first;
2. score, highest first;
3. ``reached_at``, earliest first: the moment the subject's current score was reached (e.g. the
   ``recorded_at`` of the ledger row that last changed it). Whoever got there first ranks higher.
   Subjects without one (None) come after those with one. Values must be mutually comparable
   (all datetimes, or all ``(date, sequence)`` tuples, ...);
4. subject id, ascending.

Positions are 1..n with no shared places (the tie-break settles every tie); ``Ranked.tied_with_previous``
tells a display that level and score equal the previous row's, if it prefers to show equal places.

Scoping ("within my township", "within my branch"): pass ``scope_of`` (subject id -> scope id,
e.g. member id -> branch id, or branch id -> township id) and ``scope``; subjects whose scope
differs, or who are missing from ``scope_of``, are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping


@dataclass(frozen=True)
class Standing:
    """A subject's level and score for a period, as the service knows them."""

    subject_id: object
    level: int
    score: Decimal
    reached_at: object = None
    vetoes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ranked:
    position: int
    standing: Standing
    tied_with_previous: bool = False

    @property
    def subject_id(self):
        return self.standing.subject_id


def sort_key(standing: Standing):
    """The ranking order as a sort key (ascending sort puts the best first)."""
    missing = standing.reached_at is None
    return (-standing.level, -Decimal(standing.score), missing,
            0 if missing else standing.reached_at, standing.subject_id)


def _in_scope(standings, scope_of, scope):
    if scope_of is None or scope is None:
        return list(standings)
    return [s for s in standings if s.subject_id in scope_of and scope_of[s.subject_id] == scope]


def ranking(standings: Iterable[Standing], *, scope_of: Mapping | None = None, scope=None) -> list[Ranked]:
    """All subjects (optionally only those in ``scope``) in ranking order with positions 1..n."""
    ordered = sorted(_in_scope(standings, scope_of, scope), key=sort_key)
    result, previous = [], None
    for position, standing in enumerate(ordered, start=1):
        tied = previous is not None and previous.level == standing.level \
            and Decimal(previous.score) == Decimal(standing.score)
        result.append(Ranked(position, standing, tied))
        previous = standing
    return result


def rank_of(standings: Iterable[Standing], subject_id, *, scope_of: Mapping | None = None,
            scope=None) -> int | None:
    """Position of ``subject_id``; None if absent. With ``scope_of`` and no ``scope``, the rank is
    within the subject's own scope (e.g. its township)."""
    if scope_of is not None and scope is None:
        if subject_id not in scope_of:
            return None
        scope = scope_of[subject_id]
    for ranked in ranking(standings, scope_of=scope_of, scope=scope):
        if ranked.subject_id == subject_id:
            return ranked.position
    return None


def top_n(standings: Iterable[Standing], n: int, *, scope_of: Mapping | None = None, scope=None) -> list[Ranked]:
    """The first ``n`` of the ranking (fewer when there are fewer subjects)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return ranking(standings, scope_of=scope_of, scope=scope)[:n]


def rankings_by_scope(standings: Iterable[Standing], scope_of: Mapping) -> dict[object, list[Ranked]]:
    """One ranking per scope value (e.g. per township); subjects missing from ``scope_of`` are left out."""
    groups: dict[object, list[Standing]] = {}
    for standing in standings:
        if standing.subject_id in scope_of:
            groups.setdefault(scope_of[standing.subject_id], []).append(standing)
    return {scope: ranking(group) for scope, group in groups.items()}
