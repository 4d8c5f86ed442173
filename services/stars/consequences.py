"""Consequences of the rating. The system lists, people decide: every output is a list with reasons.

* ``award_priority``: members at ``consequences.award_priority.min_level`` (default 4) or more stars
  get priority for awards (优先评先评优); in ranking order.
* ``unqualified_review``: members at ``consequences.unqualified_review.max_level`` (default 1) or
  fewer stars go on the list for careful handling as possibly unqualified (不合格党员, 严格稳慎处置);
  lowest first. Vetoed members are there with the veto item named.
* ``subsidy_report``: village cadres' performance subsidy (绩效补贴) = base x factor of their
  branch's Fortress-Star level, rounded half-up to 0.01 yuan (4-5 stars: bonus, 3: neutral by
  default, 2-0: deduction).

Pass standings (``rankings.Standing``) for the period named by ``consequences.period`` /
``subsidy.period`` (default: the year), levels being the official levels for that period.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

from services.stars.rankings import Standing, ranking
from services.stars.rulebook import Rulebook

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Listing:
    subject_id: object
    level: int
    score: Decimal
    reasons: tuple[str, ...]


def _item_label(rulebook: Rulebook, code: str) -> str:
    item = rulebook.items.get(code)
    return f"{code} ({item.name})" if item else code


def award_priority(rulebook: Rulebook, standings: Iterable[Standing], period: str) -> list[Listing]:
    """Subjects with level >= award_min_level, best first (ranking order)."""
    minimum = rulebook.consequences.award_min_level
    return [Listing(r.standing.subject_id, r.standing.level, Decimal(r.standing.score),
                    (f"{period}: {r.standing.level} stars, award priority from {minimum} stars "
                     f"(position {r.position})",))
            for r in ranking(standings) if r.standing.level >= minimum]


def unqualified_review(rulebook: Rulebook, standings: Iterable[Standing], period: str) -> list[Listing]:
    """Subjects with level <= review_max_level, lowest first: by level, then score, then subject
    id. Reasons name the level and every veto item in ``Standing.vetoes``."""
    maximum = rulebook.consequences.review_max_level
    chosen = [s for s in standings if s.level <= maximum]
    chosen.sort(key=lambda s: (s.level, Decimal(s.score), s.subject_id))
    listings = []
    for standing in chosen:
        reasons = [f"{period}: {standing.level} stars, review at {maximum} stars or fewer "
                   f"(score {standing.score})"]
        reasons += [f"veto item {_item_label(rulebook, code)} recorded" for code in standing.vetoes]
        listings.append(Listing(standing.subject_id, standing.level, Decimal(standing.score),
                                tuple(reasons)))
    return listings


def subsidy_factor(rulebook: Rulebook, level: int) -> Decimal:
    """The subsidy factor for a branch of ``level`` stars."""
    if rulebook.subsidy is None:
        raise ValueError(f"rulebook {rulebook.version} has no subsidy settings")
    if level not in rulebook.subsidy.factors:
        raise ValueError(f"no subsidy factor for level {level!r}")
    return rulebook.subsidy.factors[level]


@dataclass(frozen=True)
class SubsidyLine:
    """One cadre's line; ``amount`` is None (with a ``note``) when the branch has no level."""

    cadre_id: object
    branch_id: object
    level: int | None
    base: Decimal
    factor: Decimal | None
    amount: Decimal | None
    note: str = ""


def subsidy_report(rulebook: Rulebook, cadres: Iterable[Mapping], branch_levels: Mapping[object, int],
                   period: str = "") -> list[SubsidyLine]:
    """Subsidy lines, in the order of ``cadres``.

    ``cadres``: mappings with ``cadre_id``, ``branch_id`` and optionally ``base`` (yuan; default
    ``subsidy.base``); ``branch_levels``: branch id -> official Fortress-Star level for the period."""
    if rulebook.subsidy is None:
        raise ValueError(f"rulebook {rulebook.version} has no subsidy settings")
    lines = []
    for cadre in cadres:
        base = Decimal(str(cadre["base"])) if cadre.get("base") is not None else rulebook.subsidy.base
        branch_id = cadre["branch_id"]
        level = branch_levels.get(branch_id)
        if level is None:
            lines.append(SubsidyLine(cadre["cadre_id"], branch_id, None, base, None, None,
                                     f"branch {branch_id} has no star level{' for ' + period if period else ''}"))
            continue
        factor = subsidy_factor(rulebook, level)
        amount = (base * factor).quantize(CENT, rounding=ROUND_HALF_UP)
        change = "bonus" if factor > 1 else "deduction" if factor < 1 else "no change"
        lines.append(SubsidyLine(cadre["cadre_id"], branch_id, level, base, factor, amount,
                                 f"{level}-star branch: factor {factor} ({change})"))
    return lines
