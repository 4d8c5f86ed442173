"""From events to ledger entries, and from ledger entries to period scores.

Ledger entry (a plain dict, one row each, append-only)::

    {"subject_kind": "member", "subject_id": 42, "item": "volunteer_service",
     "points": Decimal("2.5"),        # RAW points of this event (before the monthly cap)
     "count": 1,                      # +1 for a recorded event, -1 for its compensation
     "rule_id": "member-volunteer-hours", "rule_version": "2026.1",
     "source": "members", "type": "activity_recorded",
     "occurred_on": date(2026, 11, 3)}  # local date of the activity: decides month/quarter/year

Monthly caps are applied when READING, not when recording (``apply_caps``/``summarise``): the
ledger stores each event's raw points, and a month's total for (subject, item) is the raw sum
clamped to [-cap, +cap]. This keeps the ledger append-only and makes any revocation exact: after
``compensate`` the month is in precisely the state it would be in had the revoked event never been
recorded, whichever entry is revoked (storing capped amounts would only restore the previous state
when the *latest* entry is revoked). ``capped_points`` gives the effect of one new raw amount on
the capped month total (for "+1.5 points" notices and score-changed events).

A revocation (``activity_revoked``) carries no activity details: look up the ledger entries written
for the revoked event (keep the event id on the row) and store ``compensate(entries)``; they keep
the original ``occurred_on``, so they land in the original month/quarter/year.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Iterable, Mapping

from services.stars.periods import as_date, month_key, parse_period
from services.stars.rulebook import ROUNDING, Condition, Item, Points, Rulebook, rulebook_for

ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------------
# Conditions and points
# ---------------------------------------------------------------------------------------------

def number(value) -> Decimal | None:
    """``value`` as a Decimal if it is a number or a numeric string (as decimals travel on the
    wire), else None. Booleans are not numbers; floats are read through ``str``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, (float, str)):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def _equals(expected, actual) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual is expected
    if isinstance(expected, (int, Decimal)):
        found = number(actual)
        return found is not None and found == expected
    if isinstance(actual, date) and not isinstance(actual, datetime):
        return actual.isoformat() == expected
    return isinstance(actual, str) and actual == expected


def holds(condition: Condition, payload: Mapping) -> bool:
    """Whether one condition holds for the payload (a missing field counts as null)."""
    actual = payload.get(condition.field)
    if condition.op == "present":
        return (actual is not None) is condition.value
    if condition.op == "eq":
        return _equals(condition.value, actual)
    if condition.op == "in":
        return any(_equals(option, actual) for option in condition.value)
    found = number(actual)
    if found is None:
        return False
    return found >= condition.value if condition.op == "gte" else found <= condition.value


def matches(conditions: Iterable[Condition], payload: Mapping) -> bool:
    """Whether every condition holds (an empty list always matches)."""
    return all(holds(condition, payload) for condition in conditions)


def shown(value) -> str:
    """A score as people read it: exactly two decimals, half up (the ledger keeps four)."""
    return format(Decimal(value).quantize(Decimal("0.01"), ROUND_HALF_UP), "f")


def round_to(value: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """``value`` rounded to a multiple of ``quantum`` (which need not be a power of ten: 0.5 works)."""
    steps = (value / quantum).to_integral_value(rounding=ROUNDING[rounding])
    return steps * quantum + ZERO


def compute_points(points: Points, payload: Mapping, *, rule_id: str = "?") -> Decimal | None:
    """Points one event earns under ``points``; None when the ``per`` field is null/missing (the
    rule does not apply). ValueError when the ``per`` field is not a number or is negative."""
    if points.per is None:
        raw = points.fixed
    else:
        value = payload.get(points.per)
        if value is None:
            return None
        units = number(value)
        if units is None:
            raise ValueError(f"rule {rule_id}: payload field {points.per!r} is not a number: {value!r}")
        if units < 0:
            raise ValueError(f"rule {rule_id}: payload field {points.per!r} is negative: {value!r}")
        units = units / points.unit
        if points.whole_units:
            units = units.to_integral_value(rounding=ROUNDING["floor"])
        raw = points.amount * units
    result = round_to(raw, points.quantum, points.rounding)
    if points.max_per_event is not None and abs(result) > points.max_per_event:
        result = points.max_per_event if result > 0 else -points.max_per_event
    return result


# ---------------------------------------------------------------------------------------------
# Events -> ledger entries
# ---------------------------------------------------------------------------------------------

def score_event(rulebook: Rulebook, source: str, type: str, payload: Mapping, occurred_on) -> list[dict]:
    """Ledger entries one event earns: one per matching rule (every matching rule applies, in
    rulebook order; an event may credit a member and their branch at once).

    A rule is skipped when its conditions fail, when its subject field is null/missing (e.g. no
    township), when its ``per`` field is null, or when it yields 0 points for a non-veto item.
    ``occurred_on`` (date or ISO string) is the local date of the fact: the payload's own date if
    it has one, else ``periods.local_date(envelope.occurred_at)``. Points are raw (uncapped)."""
    day = as_date(occurred_on)
    entries = []
    for rule in rulebook.rules_for(source, type):
        if not matches(rule.conditions, payload):
            continue
        subject_id = payload.get(rule.subject_field)
        if subject_id is None:
            continue
        points = compute_points(rule.points, payload, rule_id=rule.id)
        if points is None:
            continue
        if points == 0 and not rulebook.item(rule.item).is_veto:
            continue
        entries.append({"subject_kind": rule.subject_kind, "subject_id": subject_id,
                        "item": rule.item, "points": points, "count": 1, "rule_id": rule.id,
                        "rule_version": rulebook.version, "source": source, "type": type,
                        "occurred_on": day})
    return entries


def compensate(entries: Iterable[Mapping]) -> list[dict]:
    """Compensating entries for a revocation: same subject, item, rule and ``occurred_on``, with
    ``points`` and ``count`` negated. Storing them next to the originals nets them to zero."""
    result = []
    for entry in entries:
        reverse = dict(entry)
        reverse["points"] = -Decimal(entry["points"])
        reverse["count"] = -int(entry.get("count", 1))
        result.append(reverse)
    return result


# ---------------------------------------------------------------------------------------------
# Caps and summaries
# ---------------------------------------------------------------------------------------------

def clamp(item: Item | None, total: Decimal) -> Decimal:
    """A month's raw total of one item for one subject, bounded to [-cap, +cap]."""
    if item is None or item.monthly_cap is None:
        return total
    return max(-item.monthly_cap, min(item.monthly_cap, total))


def capped_points(rulebook: Rulebook, item: str, already_this_month, new_points) -> Decimal:
    """Change of the capped month total of ``item`` for one subject when ``new_points`` (raw; a
    compensation is negative) joins ``already_this_month`` (the RAW sum of that subject's entries
    for the item in the same month). E.g. cap 10, already 8, new 5 -> 2; then revoking the 5 -> -2."""
    spec = rulebook.items.get(item)
    before = Decimal(already_this_month)
    return clamp(spec, before + Decimal(new_points)) - clamp(spec, before)


def _books(rulebooks) -> list[Rulebook]:
    return [rulebooks] if isinstance(rulebooks, Rulebook) else list(rulebooks)


def _book_of_month(books, key, cache):
    if key not in cache:
        cache[key] = books[0] if len(books) == 1 else rulebook_for(parse_period(key).start, books)
    return cache[key]


def apply_caps(rulebooks, entries: Iterable[Mapping]) -> dict[tuple, Decimal]:
    """Capped totals keyed ``(subject_kind, subject_id, item, month_key)``.

    ``rulebooks``: one Rulebook, or several (each month uses the rulebook in force on its first
    day). An item unknown to the month's rulebook is left uncapped."""
    books = _books(rulebooks)
    raw: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        key = (entry["subject_kind"], entry["subject_id"], entry["item"], month_key(entry["occurred_on"]))
        raw[key] += Decimal(entry["points"])
    cache: dict = {}
    return {key: clamp(_book_of_month(books, key[3], cache).items.get(key[2]), total)
            for key, total in raw.items()}


@dataclass(frozen=True)
class Summary:
    """One subject's scoring-handbook line for a period.

    ``score``: sum of the capped item totals (own items only; roll-ups are added by
    ``levels.rollup``). ``items``: capped points per item. ``counts``: net entry count per item.
    ``vetoes``: veto items with a net positive count. ``deductions``: sum (<= 0) of deduction items."""

    subject_kind: str
    subject_id: object
    period: str
    score: Decimal
    items: Mapping[str, Decimal]
    counts: Mapping[str, int]
    vetoes: tuple[str, ...]
    deductions: Decimal

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)


def summarise(rulebooks, entries: Iterable[Mapping], period: str) -> dict[tuple, Summary]:
    """Summaries keyed ``(subject_kind, subject_id)`` for the ``period`` key ("2026-11",
    "2026-Q4", "2026"): entries outside the period are ignored, caps apply per month, and a
    period's score is the sum of its months (so Dec 31 never counts toward the next year)."""
    return summarise_periods(rulebooks, entries, [period])[period]


def summarise_periods(rulebooks, entries: Iterable[Mapping], periods: Iterable[str]) -> dict[str, dict[tuple, Summary]]:
    """``summarise`` for several period keys in one pass over the entries: ``{period: {subject:
    Summary}}`` (caps are applied once per subject, item and month, then months are summed)."""
    books = _books(rulebooks)
    spans = {key: parse_period(key) for key in periods}
    months = set().union(*(span.months for span in spans.values())) if spans else set()
    raw: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    counts: dict[tuple, int] = defaultdict(int)
    for entry in entries:
        month = month_key(entry["occurred_on"])
        if month not in months:
            continue
        key = (entry["subject_kind"], entry["subject_id"], entry["item"], month)
        raw[key] += Decimal(entry["points"])
        counts[key] += int(entry.get("count", 1))
    cache: dict = {}
    spec_of: dict[tuple, Item | None] = {}
    capped = {}
    for key, total in raw.items():
        spec = _book_of_month(books, key[3], cache).items.get(key[2])
        spec_of[key] = spec
        capped[key] = clamp(spec, total)
    result = {}
    for period, span in spans.items():
        inside = set(span.months)
        items: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
        item_counts: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        kinds: dict[str, Item | None] = {}
        for key, total in capped.items():
            if key[3] not in inside:
                continue
            subject, code = key[:2], key[2]
            items[subject][code] += total
            item_counts[subject][code] += counts[key]
            if kinds.get(code) is None:
                kinds[code] = spec_of[key]
        result[period] = {subject: _summary(subject, period, dict(items[subject]),
                                            dict(item_counts[subject]), kinds)
                          for subject in items}
    return result


def _summary(subject, period, item_totals, item_counts, kinds) -> Summary:
    vetoes = tuple(sorted(code for code, n in item_counts.items()
                          if n > 0 and kinds.get(code) is not None and kinds[code].is_veto))
    deductions = sum((total for code, total in item_totals.items()
                      if (kinds.get(code).is_deduction if kinds.get(code) else total < 0)), ZERO)
    return Summary(subject_kind=subject[0], subject_id=subject[1], period=period,
                   score=sum(item_totals.values(), ZERO), items=item_totals,
                   counts=item_counts, vetoes=vetoes, deductions=deductions)
