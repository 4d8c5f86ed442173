"""Star levels (0-5), roll-ups of branch and committee scores, and the Model Star (示范星).

Thresholds are given explicitly per period kind in the rulebook (no scaling): ``level_for`` with
``period_kind="quarter"`` on a quarter's score gives the official quarterly star (季有晋星); the
service may show a live level (实时升降) as the level of the quarter-to-date score with the quarter
thresholds, or of the month-to-date score with the month thresholds. A veto (否决项) in the period
forces 0 whatever the score.

Roll-up (branch = own items + its members; committee = own items + its branches)::

    total = own_score + round_half_up_0.01(weight[period_kind] x aggregate(children))

``mean``/``sum`` aggregate the children's scores for the same period (for a committee: the
branches' rolled-up totals); ``share_at_least`` is the fraction of children whose level for the
period (vetoes applied) is >= ``min_level``. No children: the aggregate is 0. Which children count
(e.g. members of the branch at the end of the period) is the caller's decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Collection, Iterable, Mapping

from services.stars.rulebook import Rulebook
from services.stars.scoring import Summary, round_to, shown

ZERO = Decimal(0)
CENT = Decimal("0.01")


def level_for(rulebook: Rulebook, subject_kind: str, period_kind: str, score, vetoed: bool = False) -> int:
    """Stars (0-5) for ``score`` of a ``subject_kind`` ("member", "branch", "committee") over a
    period of ``period_kind`` ("month", "quarter", "year"): the number of thresholds reached
    (score >= threshold). 0 when ``vetoed``."""
    if vetoed:
        return 0
    thresholds = rulebook.subject(subject_kind).thresholds.for_period(period_kind)
    score = Decimal(score)
    return sum(1 for minimum in thresholds if score >= minimum)


@dataclass(frozen=True)
class Children:
    """What a roll-up needs of a subject's children for one period: how many there are, the sum
    of their scores and how many stand at each level (vetoes applied; only ``share_at_least``
    reads it). Built from scores with ``children_of`` or from a database's aggregates."""

    count: int = 0
    score_sum: Decimal = ZERO
    at_level: Mapping[int, int] = field(default_factory=dict)


NO_CHILDREN = Children()


def children_of(rulebook: Rulebook, child_kind: str, period_kind: str,
                scores: Mapping[object, Decimal], vetoed: Collection = ()) -> Children:
    """``Children`` of child id -> score for one period (``vetoed``: ids vetoed in the period)."""
    at_level: dict[int, int] = {}
    for child, score in scores.items():
        level = level_for(rulebook, child_kind, period_kind, score, child in vetoed)
        at_level[level] = at_level.get(level, 0) + 1
    return Children(len(scores), sum((Decimal(s) for s in scores.values()), ZERO), at_level)


def rollup(rulebook: Rulebook, subject_kind: str, period_kind: str, own_score,
           children: Children) -> Decimal:
    """Total score of a branch or committee: ``own_score`` plus the weighted aggregate of its
    children. A subject without a ``rollup`` in the rulebook, or without children, keeps
    ``own_score``."""
    own = Decimal(own_score)
    spec = rulebook.subject(subject_kind).rollup
    if spec is None or not children.count:
        return own
    if spec.aggregate == "sum":
        aggregate = Decimal(children.score_sum)
    elif spec.aggregate == "mean":
        aggregate = Decimal(children.score_sum) / children.count
    else:
        reached = sum(n for level, n in children.at_level.items() if level >= spec.min_level)
        aggregate = Decimal(reached) / children.count
    return own + round_to(spec.weight(period_kind) * aggregate, CENT, "half_up")


def rollup_tree(rulebook: Rulebook, period_kind: str, own_scores: Mapping[tuple, Decimal],
                members_of: Mapping[object, Iterable], branches_of: Mapping[object, Iterable],
                vetoed: Collection[tuple] = ()) -> dict[tuple, Decimal]:
    """Total scores of every member, branch and committee for one period, bottom-up.

    ``own_scores``: ``(kind, id) -> own score`` (e.g. ``Summary.score``; missing means 0);
    ``members_of``: branch id -> member ids; ``branches_of``: committee (township) id -> branch
    ids; ``vetoed``: ``(kind, id)`` of vetoed subjects. Returns ``(kind, id) -> total``."""
    def own(kind, subject_id):
        return Decimal(own_scores.get((kind, subject_id), ZERO))

    totals = {key: Decimal(score) for key, score in own_scores.items() if key[0] == "member"}
    for branch_id, members in members_of.items():
        for member_id in members:
            totals.setdefault(("member", member_id), ZERO)
    branch_ids = set(members_of) | {b for branches in branches_of.values() for b in branches} \
        | {key[1] for key in own_scores if key[0] == "branch"}
    for branch_id in branch_ids:
        scores = {m: totals[("member", m)] for m in members_of.get(branch_id, ())}
        children = children_of(rulebook, "member", period_kind, scores,
                               {m for m in scores if ("member", m) in vetoed})
        totals[("branch", branch_id)] = rollup(rulebook, "branch", period_kind,
                                               own("branch", branch_id), children)
    committee_ids = set(branches_of) | {key[1] for key in own_scores if key[0] == "committee"}
    for committee_id in committee_ids:
        scores = {b: totals[("branch", b)] for b in branches_of.get(committee_id, ())}
        children = children_of(rulebook, "branch", period_kind, scores,
                               {b for b in scores if ("branch", b) in vetoed})
        totals[("committee", committee_id)] = rollup(rulebook, "committee", period_kind,
                                                     own("committee", committee_id), children)
    return totals


@dataclass(frozen=True)
class ModelStarResult:
    """``awarded`` and, when not, every unmet criterion in words (``unmet``)."""

    awarded: bool
    unmet: tuple[str, ...]


def model_star(rulebook: Rulebook, subject_kind: str, level: int, summary: Summary | None) -> ModelStarResult:
    """Whether the subject earns the Model Star (示范星) for a period.

    ``level``: the subject's level for that period (for branches/committees: of the rolled-up
    total); ``summary``: its own-items summary for the same period (``scoring.summarise``; None when
    it has no entries). The period should be of the kind named by ``model_star.period``."""
    criteria = rulebook.subject(subject_kind).model_star
    if criteria is None:
        return ModelStarResult(False, (f"the rulebook has no Model Star criteria for {subject_kind}",))
    items = summary.items if summary else {}
    counts = summary.counts if summary else {}
    unmet = []
    if level < criteria.min_level:
        unmet.append(f"level {level} is below {criteria.min_level}")
    if summary is not None and summary.vetoed:
        unmet.append(f"veto item recorded: {', '.join(summary.vetoes)}")
    for code, minimum in criteria.min_points.items():
        got = items.get(code, ZERO)
        if got < minimum:
            unmet.append(f"{code}: {shown(got)} points, needs {shown(minimum)}")
    for code, minimum in criteria.min_counts.items():
        got = counts.get(code, 0)
        if got < minimum:
            unmet.append(f"{code}: {got} times, needs {minimum}")
    if criteria.max_deduction is not None and summary is not None \
            and -summary.deductions > criteria.max_deduction:
        unmet.append(f"deductions {shown(-summary.deductions)} exceed {shown(criteria.max_deduction)}")
    return ModelStarResult(not unmet, tuple(unmet))

