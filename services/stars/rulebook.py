"""The star-rating rulebook (创星晋级): items, rules, caps, thresholds, roll-ups and consequences.

Points are decided here, never by the publisher of an event: a rule names a source service, an event
type and conditions on the payload; an event with no matching rule earns nothing, and a brand-new
event type from a new service earns credit as soon as a rule for it is added (no code change).

One rulebook per year lives in ``config/rulebooks/stars-<year>.yaml``; ``load_rulebook`` validates it
and raises ``ValueError("<key path>: <reason>")`` naming the first offending key, for example
``rules[3].points.per: unknown payload field 'hourz' for members.activity_recorded``.
``rulebook_for(day, rulebooks)`` picks the rulebook in force on a day (latest ``effective_from`` on or
before it). ``effective_from`` must be the first day of a month, so that a month (the unit of caps
and of the scoring handbook) never straddles two rulebooks.

YAML shape (see the default rulebook for a complete example)::

    version: "2026.1"                 # a string: quote it
    effective_from: 2026-01-01        # first day of a month
    events:                           # OPTIONAL payload field types, per "source.type"; when an
      members.activity_recorded:      # event is declared, rules on it may only use declared fields,
        member_id: integer            # ``per`` and gte/lte need integer/decimal fields.
        hours: decimal                # types: integer, decimal, string, boolean, date
    subjects:
      member:                         # member | branch | committee (township/street committee)
        star: vanguard                # fixed: member->vanguard, branch->fortress, committee->service
        name: 先锋星
        thresholds:                   # minimum score for 1, 2, 3, 4, 5 stars, strictly increasing,
          month:   [4, 7, 10, 15, 20] # given explicitly for each period kind (no scaling is done);
          quarter: [10, 20, 30, 45, 60]  # a score below the first number is 0 stars
          year:    [40, 80, 120, 180, 240]
        items:                        # item codes are unique across the whole rulebook
          volunteer_service: {name: 志愿服务, kind: merit, monthly_cap: 10}
          household_pairing: {name: 结对帮扶, categories: [rural], monthly_cap: 6}
          meeting_absence: {name: 无故缺席组织生活, kind: deduction, monthly_cap: 6}
          serious_violation: {name: 违纪违法, kind: veto}
        model_star: {period: year, min_level: 5, max_deduction: 0,
                     min_items: {volunteer_service: {points: 24}, meeting_attendance: {count: 12}}}
      branch:
        star: fortress
        items: {...}                  # branch items may have ``branch_kinds: [village, ...]``
        rollup: {from: member, aggregate: mean, weight: 0.5}
      committee:
        star: service
        rollup: {from: branch, aggregate: share_at_least, min_level: 4,
                 weight: {month: 10, quarter: 30, year: 120}}
    rules:
      - id: member-volunteer-hours    # unique; stored on every ledger entry
        source: members
        type: activity_recorded
        when: {kind: volunteer_service, hours: {gte: 0.5}, category: {in: [rural, community]}}
        item: volunteer_service       # the item decides the subject kind
        subject_field: member_id      # optional; default member_id / branch_id / township_id
        points: {per: hours, amount: 1, unit: 1, whole_units: false,
                 quantum: 0.5, rounding: down, max_per_event: 8}
      - {id: ..., source: ..., type: ..., item: ..., points: {fixed: 2}}
    consequences: {period: year, award_priority: {min_level: 4}, unqualified_review: {max_level: 1}}
    subsidy: {period: year, base: "12000.00", factors: {5: 1.2, 4: 1.1, 3: 1, 2: 0.9, 1: 0.8, 0: 0.7}}

Item kinds: ``merit`` (rules give positive points), ``deduction`` (减星项, rules give negative points),
``veto`` (否决项, rules give zero or negative points; one net veto entry in a period forces that
period's level to 0). ``monthly_cap`` bounds the magnitude of an item's total per subject per month
(a merit total is at most +cap, a deduction total at least -cap). An item with ``categories`` (member)
or ``branch_kinds`` (branch) belongs to those only: every rule crediting it must carry a condition on
``category`` (or, for branch kinds, ``branch_kind`` or ``category``; category rural <-> village) that
restricts it to them. Items without such a list are common (共性项).

Conditions (``when``), all must hold (missing field == null):
``field: value`` (equality; a number matches a number or a numeric string, a boolean only a boolean,
null only null/missing), ``field: {in: [...]}``, ``{gte: x}``, ``{lte: x}`` (numeric), ``{eq: x}``,
``{present: true|false}``. Several operators in one mapping all apply. Nothing is ever evaluated.

Points: ``fixed: x`` per matching event, or ``per: <numeric field>`` with ``amount`` points per
``unit`` of the field (``whole_units: true`` counts complete units only, e.g. 1 point per full 100
yuan), then rounded to a multiple of ``quantum`` (default 0.01) with ``rounding`` (half_up default,
half_even, down = toward zero, up = away from zero, floor, ceiling), then bounded by
``max_per_event`` (a magnitude). All numbers are ``Decimal``; YAML floats are read through ``str``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import (ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP,
                     ROUND_UP, Decimal, InvalidOperation)
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

SUBJECT_KINDS = ("member", "branch", "committee")
STAR_OF = {"member": "vanguard", "branch": "fortress", "committee": "service"}
CHILD_OF = {"branch": "member", "committee": "branch"}
ID_FIELD_OF = {"member": "member_id", "branch": "branch_id", "committee": "township_id"}
CATEGORIES = ("rural", "community", "institution", "nonpublic")
BRANCH_KINDS = ("village", "community", "institution", "nonpublic")
BRANCH_KIND_OF_CATEGORY = {"rural": "village", "community": "community",
                           "institution": "institution", "nonpublic": "nonpublic"}
ITEM_KINDS = ("merit", "deduction", "veto")
PERIOD_KINDS = ("month", "quarter", "year")
FIELD_TYPES = ("integer", "decimal", "string", "boolean", "date")
NUMERIC_TYPES = ("integer", "decimal")
CONDITION_OPS = ("eq", "in", "gte", "lte", "present")
ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN,
            "up": ROUND_UP, "floor": ROUND_FLOOR, "ceiling": ROUND_CEILING}
AGGREGATES = ("mean", "sum", "share_at_least")
LEVELS = range(0, 6)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# The rulebook, as dataclasses
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One line of the scoring handbook. ``categories``/``branch_kinds`` empty means common."""

    code: str
    subject_kind: str
    name: str
    kind: str = "merit"
    categories: tuple[str, ...] = ()
    branch_kinds: tuple[str, ...] = ()
    monthly_cap: Decimal | None = None
    description: str = ""

    @property
    def common(self) -> bool:
        return not self.categories and not self.branch_kinds

    @property
    def is_veto(self) -> bool:
        return self.kind == "veto"

    @property
    def is_deduction(self) -> bool:
        return self.kind == "deduction"


@dataclass(frozen=True)
class Condition:
    """``payload[field] <op> value``; op is one of eq, in, gte, lte, present."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Points:
    """How many points one matching event is worth: ``fixed``, or ``amount`` per ``unit`` of ``per``."""

    fixed: Decimal | None = None
    per: str | None = None
    amount: Decimal | None = None
    unit: Decimal = Decimal(1)
    whole_units: bool = False
    quantum: Decimal = Decimal("0.01")
    rounding: str = "half_up"
    max_per_event: Decimal | None = None

    @property
    def sign(self) -> int:
        value = self.fixed if self.per is None else self.amount
        return (value > 0) - (value < 0)


@dataclass(frozen=True)
class Rule:
    id: str
    source: str
    type: str
    item: str
    subject_kind: str
    subject_field: str
    conditions: tuple[Condition, ...]
    points: Points
    note: str = ""


@dataclass(frozen=True)
class Thresholds:
    """Minimum score for 1..5 stars, per period kind (each a strictly increasing 5-tuple)."""

    month: tuple[Decimal, ...]
    quarter: tuple[Decimal, ...]
    year: tuple[Decimal, ...]

    def for_period(self, period_kind: str) -> tuple[Decimal, ...]:
        if period_kind not in PERIOD_KINDS:
            raise ValueError(f"unknown period kind {period_kind!r}")
        return getattr(self, period_kind)


@dataclass(frozen=True)
class RollUp:
    """Score of a branch/committee = own items + ``weight`` x aggregate of its children.

    ``mean``/``sum``: of the children's scores for the same period; ``share_at_least``: fraction
    (0..1) of children whose level for the period is >= ``min_level``. ``weights`` holds one weight
    per period kind (a single YAML number applies to all three)."""

    child_kind: str
    aggregate: str
    weights: Mapping[str, Decimal]
    min_level: int | None = None

    def weight(self, period_kind: str) -> Decimal:
        return self.weights[period_kind]


@dataclass(frozen=True)
class ModelStarCriteria:
    """示范星: level >= ``min_level`` in a ``period`` of this kind, no veto, item minimums
    (``min_points``: capped points of the item in the period; ``min_counts``: net number of
    entries), and at most ``max_deduction`` deduction points in magnitude (None: no limit)."""

    period: str
    min_level: int
    min_points: Mapping[str, Decimal]
    min_counts: Mapping[str, int]
    max_deduction: Decimal | None = None


@dataclass(frozen=True)
class SubjectSpec:
    kind: str
    star: str
    name: str
    thresholds: Thresholds
    rollup: RollUp | None = None
    model_star: ModelStarCriteria | None = None


@dataclass(frozen=True)
class Consequences:
    """Members at ``award_min_level`` or above get award priority; at ``review_max_level`` or below
    they go on the unqualified-member review list. ``period`` says which period's official level the
    lists are drawn from (informational for the service: the functions take the standings given)."""

    period: str = "year"
    award_min_level: int = 4
    review_max_level: int = 1


@dataclass(frozen=True)
class Subsidy:
    """Village cadre performance subsidy: ``base`` yuan x ``factors[branch level]``."""

    base: Decimal
    factors: Mapping[int, Decimal]
    period: str = "year"


@dataclass(frozen=True)
class Rulebook:
    version: str
    effective_from: date
    subjects: Mapping[str, SubjectSpec]
    items: Mapping[str, Item]
    rules: tuple[Rule, ...]
    events: Mapping[str, Mapping[str, str]]
    consequences: Consequences
    subsidy: Subsidy | None
    _by_event: dict = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        index: dict[tuple[str, str], list[Rule]] = {}
        for rule in self.rules:
            index.setdefault((rule.source, rule.type), []).append(rule)
        object.__setattr__(self, "_by_event", {key: tuple(val) for key, val in index.items()})

    def rules_for(self, source: str, type: str) -> tuple[Rule, ...]:
        """The rules listening to ``source``/``type``, in rulebook order."""
        return self._by_event.get((source, type), ())

    def item(self, code: str) -> Item:
        """The item ``code``; KeyError if this rulebook has no such item."""
        return self.items[code]

    def subject(self, kind: str) -> SubjectSpec:
        if kind not in self.subjects:
            raise ValueError(f"rulebook {self.version} has no subject kind {kind!r}")
        return self.subjects[kind]

    def items_of(self, subject_kind: str) -> tuple[Item, ...]:
        return tuple(item for item in self.items.values() if item.subject_kind == subject_kind)


# ---------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------

def load_rulebook(path_or_dict) -> Rulebook:
    """Load and validate a rulebook from a YAML file path or an already-parsed mapping.

    Raises ``ValueError("<key path>: <reason>")`` for the first problem found (prefixed with the
    file name when loading a file)."""
    if isinstance(path_or_dict, Mapping):
        return _build(path_or_dict)
    if not isinstance(path_or_dict, (str, os.PathLike)):
        raise TypeError("load_rulebook expects a path or a mapping")
    path = Path(path_or_dict)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=loader)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{path.name}: (top level): must be a mapping")
    try:
        return _build(data)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def load_rulebooks(directory, pattern: str = "stars-*.yaml") -> list[Rulebook]:
    """Every rulebook file in ``directory``, sorted by ``effective_from``; ValueError when two
    share an ``effective_from``."""
    books = sorted((load_rulebook(p) for p in sorted(Path(directory).glob(pattern))),
                   key=lambda b: b.effective_from)
    _check_distinct(books)
    return books


def rulebook_for(day, rulebooks: Iterable[Rulebook]) -> Rulebook:
    """The rulebook in force on ``day``: the latest ``effective_from`` on or before it.

    ValueError when none is in force yet or when two rulebooks share an ``effective_from``."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    books = list(rulebooks)
    _check_distinct(books)
    eligible = [book for book in books if book.effective_from <= day]
    if not eligible:
        raise ValueError(f"no rulebook in force on {day.isoformat()}")
    return max(eligible, key=lambda book: book.effective_from)


def _check_distinct(books):
    seen = {}
    for book in books:
        if book.effective_from in seen:
            raise ValueError(f"rulebooks {seen[book.effective_from]} and {book.version} are both "
                             f"effective from {book.effective_from.isoformat()}")
        seen[book.effective_from] = book.version


class _Invalid(ValueError):
    pass


def _fail(path: str, reason: str):
    raise _Invalid(f"{path}: {reason}")


def _mapping(value, path, *, allowed=None, required=()):
    if not isinstance(value, Mapping):
        _fail(path or "(top level)", "must be a mapping")
    for key in value:
        if not isinstance(key, str):
            _fail(_join(path, key), "keys must be strings")
    if allowed is not None:
        for key in value:
            if key not in allowed:
                _fail(_join(path, key), f"unknown key (allowed: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            _fail(_join(path, key), "is required")
    return value


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def _string(value, path, *, pattern=None, what="a string"):
    if not isinstance(value, str) or not value.strip():
        _fail(path, f"must be {what} (a non-empty string)")
    if pattern is not None and not pattern.match(value):
        _fail(path, f"{value!r} is not {what}")
    return value


def _decimal(value, path, *, positive=False, nonnegative=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        _fail(path, "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        _fail(path, f"must be a number, got {value!r}")
    if not number.is_finite():
        _fail(path, "must be a finite number")
    if positive and number <= 0:
        _fail(path, "must be greater than 0")
    if nonnegative and number < 0:
        _fail(path, "must not be negative")
    return number


def _level(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        _fail(path, "must be a star level, an integer from 0 to 5")
    return value


def _period_kind(value, path, allowed=PERIOD_KINDS):
    if value not in allowed:
        _fail(path, f"must be one of {', '.join(allowed)}")
    return value


def _choices(value, path, allowed):
    if not isinstance(value, list) or not value:
        _fail(path, "must be a non-empty list")
    for i, entry in enumerate(value):
        if entry not in allowed:
            _fail(f"{path}[{i}]", f"unknown value {entry!r} (allowed: {', '.join(allowed)})")
    return tuple(value)


TOP_KEYS = ("version", "effective_from", "description", "events", "subjects", "rules",
            "consequences", "subsidy")


def _build(data: Mapping) -> Rulebook:
    try:
        _mapping(data, "", allowed=TOP_KEYS,
                 required=("version", "effective_from", "subjects", "rules"))
        version = data["version"]
        if not isinstance(version, str) or not version.strip():
            _fail("version", "must be a non-empty string (quote numbers such as \"2026.1\")")
        effective_from = _effective_from(data["effective_from"])
        events = _events(data.get("events") or {})
        subjects, items = _subjects(data["subjects"])
        rules = _rules(data["rules"], items, events)
        for kind, spec in subjects.items():
            if spec.model_star is not None:
                for code in (*spec.model_star.min_points, *spec.model_star.min_counts):
                    if code not in items or items[code].subject_kind != kind:
                        _fail(f"subjects.{kind}.model_star.min_items.{code}",
                              f"not an item of subject {kind}")
        consequences = _consequences(data.get("consequences"))
        subsidy = _subsidy(data["subsidy"]) if data.get("subsidy") is not None else None
    except _Invalid as exc:
        raise ValueError(str(exc)) from None
    return Rulebook(version=version, effective_from=effective_from, subjects=subjects, items=items,
                    rules=rules, events=events, consequences=consequences, subsidy=subsidy)


def _effective_from(value) -> date:
    if isinstance(value, datetime):
        _fail("effective_from", "must be a date, not a timestamp")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            _fail("effective_from", f"not an ISO date: {value!r}")
    if not isinstance(value, date):
        _fail("effective_from", "must be a date (YYYY-MM-DD)")
    if value.day != 1:
        _fail("effective_from", "must be the first day of a month (caps are per month)")
    return value


def _events(value) -> dict[str, dict[str, str]]:
    _mapping(value, "events")
    events = {}
    for key, fields in value.items():
        path = f"events.{key}"
        if key.count(".") != 1 or not all(_NAME.match(part) for part in key.split(".")):
            _fail(path, "event keys are written source.type, e.g. members.activity_recorded")
        _mapping(fields, path)
        for name, kind in fields.items():
            if not _FIELD.match(name):
                _fail(f"{path}.{name}", "not a valid field name")
            if kind not in FIELD_TYPES:
                _fail(f"{path}.{name}", f"unknown payload field type {kind!r} "
                                        f"(allowed: {', '.join(FIELD_TYPES)})")
        events[key] = dict(fields)
    return events


SUBJECT_KEYS = ("star", "name", "thresholds", "items", "rollup", "model_star")


def _subjects(value):
    _mapping(value, "subjects", allowed=SUBJECT_KINDS)
    if not value:
        _fail("subjects", "must define at least one subject kind")
    subjects, items = {}, {}
    for kind, spec in value.items():
        path = f"subjects.{kind}"
        _mapping(spec, path, allowed=SUBJECT_KEYS, required=("star", "thresholds"))
        if spec["star"] != STAR_OF[kind]:
            _fail(f"{path}.star", f"the star of a {kind} is {STAR_OF[kind]!r}")
        name = spec.get("name", STAR_OF[kind])
        _string(name, f"{path}.name")
        thresholds = _thresholds(spec["thresholds"], f"{path}.thresholds")
        for code, item_spec in _mapping(spec.get("items") or {}, f"{path}.items").items():
            if code in items:
                _fail(f"{path}.items.{code}",
                      f"item code already used by subject {items[code].subject_kind}")
            items[code] = _item(code, kind, item_spec, f"{path}.items.{code}")
        rollup = None
        if spec.get("rollup") is not None:
            if kind not in CHILD_OF:
                _fail(f"{path}.rollup", "a member has no children to roll up")
            rollup = _rollup(spec["rollup"], kind, f"{path}.rollup")
        model = _model_star(spec["model_star"], f"{path}.model_star") \
            if spec.get("model_star") is not None else None
        subjects[kind] = SubjectSpec(kind=kind, star=STAR_OF[kind], name=name, thresholds=thresholds,
                                     rollup=rollup, model_star=model)
    for kind, spec in subjects.items():
        if spec.rollup is not None and spec.rollup.child_kind not in subjects:
            _fail(f"subjects.{kind}.rollup.from", f"subject kind {spec.rollup.child_kind} is not defined")
    return subjects, items


def _thresholds(value, path) -> Thresholds:
    _mapping(value, path, allowed=PERIOD_KINDS, required=PERIOD_KINDS)
    found = {}
    for kind in PERIOD_KINDS:
        entry_path = f"{path}.{kind}"
        entry = value[kind]
        if not isinstance(entry, list) or len(entry) != 5:
            _fail(entry_path, "must list exactly 5 minimum scores (for 1, 2, 3, 4 and 5 stars)")
        numbers = tuple(_decimal(v, f"{entry_path}[{i}]") for i, v in enumerate(entry))
        for i in range(1, 5):
            if numbers[i] <= numbers[i - 1]:
                _fail(f"{entry_path}[{i}]", f"must increase strictly ({numbers[i]} after {numbers[i - 1]})")
        found[kind] = numbers
    return Thresholds(**found)


ITEM_KEYS = ("name", "kind", "categories", "branch_kinds", "monthly_cap", "description")


def _item(code, subject_kind, spec, path) -> Item:
    if not _NAME.match(code):
        _fail(path, "item codes are lower_snake_case")
    _mapping(spec, path, allowed=ITEM_KEYS, required=("name",))
    _string(spec["name"], f"{path}.name")
    kind = spec.get("kind", "merit")
    if kind not in ITEM_KINDS:
        _fail(f"{path}.kind", f"must be one of {', '.join(ITEM_KINDS)}")
    categories = branch_kinds = ()
    if spec.get("categories") is not None:
        if subject_kind != "member":
            _fail(f"{path}.categories", "only member items are scoped by member category")
        categories = _choices(spec["categories"], f"{path}.categories", CATEGORIES)
    if spec.get("branch_kinds") is not None:
        if subject_kind != "branch":
            _fail(f"{path}.branch_kinds", "only branch items are scoped by branch kind")
        branch_kinds = _choices(spec["branch_kinds"], f"{path}.branch_kinds", BRANCH_KINDS)
    cap = None
    if spec.get("monthly_cap") is not None:
        cap = _decimal(spec["monthly_cap"], f"{path}.monthly_cap", positive=True)
    description = spec.get("description", "")
    if not isinstance(description, str):
        _fail(f"{path}.description", "must be a string")
    return Item(code=code, subject_kind=subject_kind, name=spec["name"], kind=kind,
                categories=categories, branch_kinds=branch_kinds, monthly_cap=cap,
                description=description)


def _rollup(spec, kind, path) -> RollUp:
    _mapping(spec, path, allowed=("from", "aggregate", "weight", "min_level"),
             required=("from", "aggregate", "weight"))
    if spec["from"] != CHILD_OF[kind]:
        _fail(f"{path}.from", f"a {kind} rolls up its {CHILD_OF[kind]}s")
    aggregate = spec["aggregate"]
    if aggregate not in AGGREGATES:
        _fail(f"{path}.aggregate", f"must be one of {', '.join(AGGREGATES)}")
    weight = spec["weight"]
    if isinstance(weight, Mapping):
        _mapping(weight, f"{path}.weight", allowed=PERIOD_KINDS, required=PERIOD_KINDS)
        weights = {k: _decimal(weight[k], f"{path}.weight.{k}", nonnegative=True) for k in PERIOD_KINDS}
    else:
        single = _decimal(weight, f"{path}.weight", nonnegative=True)
        weights = {k: single for k in PERIOD_KINDS}
    min_level = None
    if aggregate == "share_at_least":
        if "min_level" not in spec:
            _fail(f"{path}.min_level", "is required for aggregate share_at_least")
        min_level = _level(spec["min_level"], f"{path}.min_level")
    elif "min_level" in spec:
        _fail(f"{path}.min_level", "only applies to aggregate share_at_least")
    return RollUp(child_kind=CHILD_OF[kind], aggregate=aggregate, weights=weights, min_level=min_level)


def _model_star(spec, path) -> ModelStarCriteria:
    _mapping(spec, path, allowed=("period", "min_level", "min_items", "max_deduction"))
    period = _period_kind(spec.get("period", "year"), f"{path}.period", ("quarter", "year"))
    min_level = _level(spec.get("min_level", 5), f"{path}.min_level")
    min_points, min_counts = {}, {}
    for code, need in (spec.get("min_items") or {}).items():
        need_path = f"{path}.min_items.{code}"
        _mapping(need, need_path, allowed=("points", "count"))
        if not need:
            _fail(need_path, "give points and/or count")
        if "points" in need:
            min_points[code] = _decimal(need["points"], f"{need_path}.points", positive=True)
        if "count" in need:
            count = need["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                _fail(f"{need_path}.count", "must be a positive integer")
            min_counts[code] = count
    max_deduction = None
    if spec.get("max_deduction") is not None:
        max_deduction = _decimal(spec["max_deduction"], f"{path}.max_deduction", nonnegative=True)
    return ModelStarCriteria(period=period, min_level=min_level, min_points=min_points,
                             min_counts=min_counts, max_deduction=max_deduction)


RULE_KEYS = ("id", "source", "type", "when", "item", "subject_field", "points", "note")
POINT_KEYS = ("fixed", "per", "amount", "unit", "whole_units", "quantum", "rounding", "max_per_event")


def _rules(value, items, events) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        _fail("rules", "must be a list")
    rules, ids = [], {}
    for index, spec in enumerate(value):
        path = f"rules[{index}]"
        _mapping(spec, path, allowed=RULE_KEYS, required=("id", "source", "type", "item", "points"))
        rule_id = _string(spec["id"], f"{path}.id")
        if rule_id in ids:
            _fail(f"{path}.id", f"duplicate rule id {rule_id!r} (also rules[{ids[rule_id]}])")
        ids[rule_id] = index
        source = _string(spec["source"], f"{path}.source", pattern=_NAME, what="a service name")
        type_ = _string(spec["type"], f"{path}.type", pattern=_NAME, what="an event type")
        declared = events.get(f"{source}.{type_}")
        code = spec["item"]
        if code not in items:
            _fail(f"{path}.item", f"unknown item {code!r}")
        item = items[code]
        subject_field = spec.get("subject_field", ID_FIELD_OF[item.subject_kind])
        _string(subject_field, f"{path}.subject_field", pattern=_FIELD, what="a payload field name")
        _declared(declared, subject_field, f"{path}.subject_field", source, type_,
                  types=("integer", "string"))
        conditions = _conditions(spec.get("when") or {}, f"{path}.when", declared, source, type_)
        points = _points(spec["points"], f"{path}.points", declared, source, type_)
        _check_sign(item, points, f"{path}.points")
        _check_scope(item, conditions, f"{path}.when")
        note = spec.get("note", "")
        if not isinstance(note, str):
            _fail(f"{path}.note", "must be a string")
        rules.append(Rule(id=rule_id, source=source, type=type_, item=code,
                          subject_kind=item.subject_kind, subject_field=subject_field,
                          conditions=conditions, points=points, note=note))
    return tuple(rules)


def _declared(declared, name, path, source, type_, *, types=None):
    """Check ``name`` against the declared payload fields of the event (if declared)."""
    if declared is None:
        return None
    if name not in declared:
        _fail(path, f"unknown payload field {name!r} for {source}.{type_}")
    if types is not None and declared[name] not in types:
        _fail(path, f"payload field {name!r} is {declared[name]}, expected {' or '.join(types)}")
    return declared[name]


def _scalar(value, path):
    if isinstance(value, (str, bool, int, Decimal)) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    _fail(path, "condition values must be strings, numbers, booleans or null")


def _matches_type(value, field_type) -> bool:
    if value is None:
        return True
    if field_type in NUMERIC_TYPES:
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if field_type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)  # string, date (ISO)


def _conditions(spec, path, declared, source, type_) -> tuple[Condition, ...]:
    _mapping(spec, path)
    conditions = []
    for name, test in spec.items():
        field_path = f"{path}.{name}"
        if not _FIELD.match(name):
            _fail(field_path, "not a valid payload field name")
        field_type = _declared(declared, name, field_path, source, type_)
        if isinstance(test, list):
            _fail(field_path, "a list is not a value: write {in: [...]} to accept several values")
        if not isinstance(test, Mapping):
            test = {"eq": test}
            ops_path = field_path
        else:
            ops_path = None
            _mapping(test, field_path, allowed=CONDITION_OPS)
            if not test:
                _fail(field_path, f"give at least one of {', '.join(CONDITION_OPS)}")
        for op, raw in test.items():
            op_path = ops_path or f"{field_path}.{op}"
            if op == "in":
                if not isinstance(raw, list) or not raw:
                    _fail(op_path, "must be a non-empty list")
                value = tuple(_scalar(v, f"{op_path}[{i}]") for i, v in enumerate(raw))
                checks = value
            elif op in ("gte", "lte"):
                value = _decimal(raw, op_path)
                if field_type is not None and field_type not in NUMERIC_TYPES:
                    _fail(op_path, f"payload field {name!r} is {field_type}, {op} needs a number")
                checks = ()
            elif op == "present":
                if not isinstance(raw, bool):
                    _fail(op_path, "must be true or false")
                value, checks = raw, ()
            else:
                value = _scalar(raw, op_path)
                checks = (value,)
            if field_type is not None:
                for check in checks:
                    if not _matches_type(check, field_type):
                        _fail(op_path, f"{check!r} can never equal payload field {name!r} of type {field_type}")
            conditions.append(Condition(name, op, value))
    return tuple(conditions)


def _points(spec, path, declared, source, type_) -> Points:
    _mapping(spec, path, allowed=POINT_KEYS)
    if ("fixed" in spec) == ("per" in spec):
        _fail(path, "give exactly one of fixed or per")
    quantum = _decimal(spec.get("quantum", "0.01"), f"{path}.quantum", positive=True)
    rounding = spec.get("rounding", "half_up")
    if rounding not in ROUNDING:
        _fail(f"{path}.rounding", f"must be one of {', '.join(ROUNDING)}")
    max_per_event = None
    if spec.get("max_per_event") is not None:
        max_per_event = _decimal(spec["max_per_event"], f"{path}.max_per_event", positive=True)
    if "fixed" in spec:
        for key in ("amount", "unit", "whole_units"):
            if key in spec:
                _fail(f"{path}.{key}", "only applies with per")
        return Points(fixed=_decimal(spec["fixed"], f"{path}.fixed"), quantum=quantum,
                      rounding=rounding, max_per_event=max_per_event)
    per = _string(spec["per"], f"{path}.per", pattern=_FIELD, what="a payload field name")
    _declared(declared, per, f"{path}.per", source, type_, types=NUMERIC_TYPES)
    if "amount" not in spec:
        _fail(f"{path}.amount", "is required with per (points per unit)")
    amount = _decimal(spec["amount"], f"{path}.amount")
    if amount == 0:
        _fail(f"{path}.amount", "must not be 0")
    unit = _decimal(spec.get("unit", 1), f"{path}.unit", positive=True)
    whole_units = spec.get("whole_units", False)
    if not isinstance(whole_units, bool):
        _fail(f"{path}.whole_units", "must be true or false")
    return Points(per=per, amount=amount, unit=unit, whole_units=whole_units, quantum=quantum,
                  rounding=rounding, max_per_event=max_per_event)


def _check_sign(item: Item, points: Points, path):
    key = f"{path}.fixed" if points.per is None else f"{path}.amount"
    if item.kind == "merit" and points.sign <= 0:
        _fail(key, f"item {item.code} is a merit item: points must be positive")
    if item.kind == "deduction" and points.sign >= 0:
        _fail(key, f"item {item.code} is a deduction item (减星项): points must be negative")
    if item.kind == "veto" and points.sign > 0:
        _fail(key, f"item {item.code} is a veto item (否决项): points must be 0 or negative")


def _restricted_values(conditions, name):
    """Values a condition on ``name`` restricts the payload to (None when unrestricted)."""
    allowed = None
    for condition in conditions:
        if condition.field != name:
            continue
        if condition.op == "eq":
            values = {condition.value}
        elif condition.op == "in":
            values = set(condition.value)
        else:
            continue
        allowed = values if allowed is None else allowed & values
    return allowed


def _check_scope(item: Item, conditions, path):
    if item.categories:
        allowed = _restricted_values(conditions, "category")
        if allowed is None or not allowed <= set(item.categories):
            _fail(f"{path}.category", f"item {item.code} is for categories "
                                      f"{', '.join(item.categories)} only: restrict category to them")
    if item.branch_kinds:
        kinds = _restricted_values(conditions, "branch_kind")
        if kinds is None:
            categories = _restricted_values(conditions, "category")
            kinds = None if categories is None else {BRANCH_KIND_OF_CATEGORY.get(c) for c in categories}
        if kinds is None or not kinds <= set(item.branch_kinds):
            _fail(f"{path}.branch_kind", f"item {item.code} is for branch kinds "
                                         f"{', '.join(item.branch_kinds)} only: restrict branch_kind "
                                         f"(or category) to them")


def _consequences(spec) -> Consequences:
    if spec is None:
        return Consequences()
    path = "consequences"
    _mapping(spec, path, allowed=("period", "award_priority", "unqualified_review"))
    period = _period_kind(spec.get("period", "year"), f"{path}.period", ("quarter", "year"))
    award = _mapping(spec.get("award_priority") or {}, f"{path}.award_priority", allowed=("min_level",))
    review = _mapping(spec.get("unqualified_review") or {}, f"{path}.unqualified_review",
                      allowed=("max_level",))
    award_min = _level(award.get("min_level", 4), f"{path}.award_priority.min_level")
    review_max = _level(review.get("max_level", 1), f"{path}.unqualified_review.max_level")
    if review_max >= award_min:
        _fail(f"{path}.unqualified_review.max_level",
              f"must be below award_priority.min_level ({award_min})")
    return Consequences(period=period, award_min_level=award_min, review_max_level=review_max)


def _subsidy(spec) -> Subsidy:
    path = "subsidy"
    _mapping(spec, path, allowed=("period", "base", "factors"), required=("base", "factors"))
    period = _period_kind(spec.get("period", "year"), f"{path}.period", ("quarter", "year"))
    base = _decimal(spec["base"], f"{path}.base", nonnegative=True)
    raw = spec["factors"]
    if not isinstance(raw, Mapping):
        _fail(f"{path}.factors", "must be a mapping from star level (0-5) to factor")
    factors = {}
    for key, value in raw.items():
        level = key if isinstance(key, int) and not isinstance(key, bool) else None
        if isinstance(key, str) and key.isdigit():
            level = int(key)
        if level not in LEVELS:
            _fail(f"{path}.factors.{key}", "keys must be star levels 0 to 5")
        factors[level] = _decimal(value, f"{path}.factors.{key}", nonnegative=True)
    for level in LEVELS:
        if level not in factors:
            _fail(f"{path}.factors.{level}", "is required (one factor per star level 0-5)")
    for level in (4, 5):
        if factors[level] < 1:
            _fail(f"{path}.factors.{level}", "4-5 star branches get a bonus: factor must be >= 1")
    for level in (0, 1, 2):
        if factors[level] > 1:
            _fail(f"{path}.factors.{level}", "0-2 star branches get a deduction: factor must be <= 1")
    for level in range(1, 6):
        if factors[level] < factors[level - 1]:
            _fail(f"{path}.factors.{level}", "factors must not decrease as stars increase")
    return Subsidy(base=base, factors=factors, period=period)
