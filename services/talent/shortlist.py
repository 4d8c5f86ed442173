"""The shortlist for a village Party secretary vacancy (pure): who of the reserve pool may fill
it, ranked, with the reasons for each place and for each exclusion.

A candidate (plain dict): ``cadre_id``, ``name``, ``birth_date``, ``education``, ``standing``,
``experience_years``, ``member_id``, ``village_id`` (home village, may be None), ``township_id``
and ``post`` (the post held on the day, a dict with ``role``, ``unit``, ``started_on``; None).
``stars`` is what the stars service answered (``Answer``, built by ``remote.star_levels``):
``available``, ``period``, ``reason`` and ``levels`` ({member_id: level, None when stars has no record of the member}).

Every criterion is checked for every candidate, so an excluded candidate hears every reason at
once. A candidate who passes scores 0..1 on each weighted criterion; the total is
``100 x sum(weight x score) / sum(weights)``: each criterion's share of it is listed (rounded
to cents) and the total is their sum."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.talent import profiles
from services.talent.plain import plain

CENT = Decimal("0.01")


@dataclass
class Answer:
    """The stars service's answer for a set of members."""
    available: bool
    period: str
    levels: dict = field(default_factory=dict)
    reason: str | None = None


def shortlist(candidates, vacancy: dict, rules, day: date, stars: Answer) -> dict:
    passed, excluded = [], []
    for candidate in candidates:
        star = _star(candidate, stars)
        why_not = _exclusions(candidate, rules, day, star, stars)
        if why_not:
            excluded.append({**_who(candidate), "why_not": why_not})
        else:
            passed.append(_scored(candidate, vacancy, rules, day, star, stars))
    passed.sort(key=lambda c: (-c["_total"], -(c["star_level"] or 0), c["age"], c["cadre_id"]))
    for rank, found in enumerate(passed, start=1):
        found["rank"] = rank
        del found["_total"]
        if rank > rules.size:
            found["why_not"] = [f"ranked {rank}; the shortlist holds {rules.size} "
                                f"(shortlist.size)"]
    excluded.sort(key=lambda c: c["cadre_id"])
    notes = []
    if not stars.available:
        notes.append(f"star levels were not checked: {stars.reason}. The ranking leaves the "
                     f"star criterion out until the stars service answers; ask again then.")
    return plain({
        "vacancy": vacancy, "on": day, "complete": stars.available,
        "stars": {"available": stars.available, "period": stars.period, "reason": stars.reason},
        "criteria": _criteria(rules), "notes": notes,
        "shortlist": passed[:rules.size], "ranked_below": passed[rules.size:],
        "excluded": excluded, "considered": len(candidates)})


def _who(candidate) -> dict:
    return {"cadre_id": candidate["cadre_id"], "name": candidate["name"],
            "member_id": candidate["member_id"], "village_id": candidate["village_id"]}


def _star(candidate, stars: Answer):
    """(level or None, text) of a candidate's current star level."""
    if candidate["member_id"] is None:
        return None, "no star level (not a Party member)"
    if not stars.available:
        return None, "star level unknown (stars did not answer)"
    level = stars.levels.get(candidate["member_id"])
    if level is None:
        return 0, f"stars has no record of member {candidate['member_id']}: counted as 0 stars"
    return level, f"{level} stars ({stars.period}, live)"


def _exclusions(candidate, rules, day, star, stars: Answer) -> list[str]:
    reasons = []
    age = profiles.age_on(candidate["birth_date"], day)
    if age > rules.max_age:
        reasons.append(f"too old: aged {age} on {day.isoformat()}, over the limit of "
                       f"{rules.max_age} (shortlist.max_age)")
    if profiles.education_rank(candidate["education"]) < profiles.education_rank(rules.min_education):
        reasons.append(f"education {candidate['education']} is below the minimum "
                       f"{rules.min_education} (shortlist.min_education)")
    if candidate["standing"] not in rules.standings:
        reasons.append(f"political standing {candidate['standing']}: a village Party secretary "
                       f"must be {' or '.join(rules.standings)} (shortlist.standings)")
    post = candidate["post"]
    if post is not None and rules.exclude_post_holders:
        reasons.append(f"already holds a post: {post['role']} of {post['unit']} since "
                       f"{post['started_on'].isoformat()} (shortlist.exclude_post_holders)")
    level, text = star
    checkable = stars.available or candidate["member_id"] is None
    if checkable and (level or 0) < rules.min_star_level:
        reasons.append(f"star level below the minimum {rules.min_star_level} "
                       f"(shortlist.min_star_level): {text}")
    return reasons


def _scored(candidate, vacancy, rules, day, star, stars: Answer) -> dict:
    age = profiles.age_on(candidate["birth_date"], day)
    level, star_text = star
    weights = dict(rules.weights)
    if not stars.available:
        weights["star_level"] = Decimal(0)
    total_weight = sum(weights.values())
    education, years = candidate["education"], candidate["experience_years"]
    local = candidate["village_id"] == vacancy["village_id"]
    parts = [
        ("age", f"aged {age}", _age_score(age, rules)),
        ("education", education, Decimal(str(rules.education_points[education]))),
        ("experience", f"{years} years",
         min(Decimal(years) / rules.experience_full_marks_years, Decimal(1))),
        ("star_level", star_text, Decimal(level or 0) / 5),
        ("home_village", "from the vacancy's village" if local else "from another village",
         Decimal(local)),
    ]
    shares, reasons, total = [], [], Decimal(0)
    for criterion, value, score in parts:
        weight = Decimal(str(weights[criterion]))
        points = (100 * weight * score / total_weight) if total_weight else Decimal(0)
        total += _cents(points)
        shares.append({"criterion": criterion, "value": value, "score": _cents(score),
                       "weight": weight, "points": _cents(points)})
        reasons.append(f"{criterion}: {value}, scores {_cents(score)} x weight {weight}"
                       f" = {_cents(points)} points" + ("" if weight or criterion != "star_level"
                                                         or stars.available else
                                                         " (not checked: stars did not answer)"))
    met = [f"aged {age}, within {rules.max_age}",
           f"education {candidate['education']}, at least {rules.min_education}",
           f"political standing {candidate['standing']}", "holds no post",
           f"star level: {star_text}" + ("" if not stars.available
                                         else f", at least {rules.min_star_level}")]
    return {**_who(candidate), "age": age, "star_level": level, "total": _cents(total),
            "_total": _cents(total), "meets": met, "reasons": reasons, "points": shares}


def _age_score(age, rules) -> Decimal:
    if age <= rules.age_full_marks_at:
        return Decimal(1)
    span = rules.max_age - rules.age_full_marks_at
    return max(Decimal(0), Decimal(rules.max_age - age) / span)


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _criteria(rules) -> dict:
    return {"scope": rules.scope, "size": rules.size, "max_age": rules.max_age,
            "min_education": rules.min_education, "standings": list(rules.standings),
            "min_star_level": rules.min_star_level, "star_period": rules.star_period,
            "exclude_post_holders": rules.exclude_post_holders,
            "weights": {k: Decimal(str(v)) for k, v in rules.weights.items()}}
