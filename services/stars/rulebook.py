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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from marshmallow import (Schema, ValidationError, fields, missing, post_load, pre_load, validate,
                         validates_schema)

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
_EVENT = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


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
# Loading: marshmallow schemas that load into the dataclasses above
# ---------------------------------------------------------------------------------------------

def load_rulebook(path_or_dict) -> Rulebook:
    """Load and validate a rulebook from a YAML file path or an already-parsed mapping.

    Raises ``ValueError("<key path>: <reason>")`` for the first problem found (prefixed with the
    file name when loading a file)."""
    if isinstance(path_or_dict, Mapping):
        return _load(path_or_dict)
    if not isinstance(path_or_dict, (str, os.PathLike)):
        raise TypeError("load_rulebook expects a path or a mapping")
    path = Path(path_or_dict)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=loader)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML: {exc}") from None
    try:
        return _load(data)
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


def _load(data) -> Rulebook:
    try:
        return RulebookSchema().load(data)
    except ValidationError as error:
        raise ValueError("%s: %s" % next(_problems(error.messages))) from None


def _problems(messages, path=""):
    """marshmallow's nested messages as ``(key path, reason)`` pairs, in order. As
    ``shared.errors.flatten_messages`` but list positions read ``rules[3]`` (not ``rules.3``), and a
    schema-level reason (``_schema``) goes on the path of its schema."""
    if not isinstance(messages, dict):
        for reason in messages if isinstance(messages, list) else [messages]:
            yield path or "(top level)", str(reason)
        return
    for key, value in messages.items():
        yield from _problems(value, path if key == "_schema" else f"{path}[{key}]" if isinstance(key, int)
                             else f"{path}.{key}" if path else str(key))


def _raise(errors):
    if errors:
        raise ValidationError(errors)


# ---- fields: marshmallow's, with the rulebook's messages -------------------------------------

def _messages(reason, **more):
    """``error_messages`` giving ``reason`` for a value of the wrong type and for null."""
    return {"invalid": reason, "null": reason, **more}


_POSITIVE = validate.Range(min=0, min_inclusive=False, error="must be greater than 0")
_NOT_NEGATIVE = validate.Range(min=0, error="must not be negative")
_LEVEL = "must be a star level, an integer from 0 to 5"
_NONEMPTY = "must be a non-empty list"


class Number(fields.Decimal):
    """A Decimal from a YAML number (floats are read through ``str``) or a numeric string."""
    default_error_messages = _messages("must be a number", special="must be a finite number")


class Flag(fields.Boolean):
    """``true`` or ``false``, nothing else (no 1, "yes", ...)."""
    default_error_messages = _messages("must be true or false")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid")


class Scalar(fields.Field):
    """A value compared with a payload field: string, number, boolean or null; a date as ISO text."""
    default_error_messages = {"invalid": "condition values must be strings, numbers, booleans or null"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            return Decimal(str(value))
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, (str, bool, int, Decimal)):
            return value
        raise self.make_error("invalid")


class Seq(fields.List):
    """A YAML list, loaded as a tuple."""
    default_error_messages = _messages("must be a list")

    def _deserialize(self, value, attr, data, **kwargs):
        return tuple(super()._deserialize(value, attr, data, **kwargs))


class _Blank:
    """With ``blank=True``, missing or null (a YAML key with nothing after it) loads like ``{}``."""
    default_error_messages = _messages("must be a mapping")

    def __init__(self, *args, blank=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.blank = blank

    def deserialize(self, value, attr=None, data=None, **kwargs):
        blank = self.blank and (value is None or value is missing)
        return super().deserialize({} if blank else value, attr, data, **kwargs)


class Part(_Blank, fields.Nested):
    """A mapping loaded by its own schema."""


class Keyed(_Blank, fields.Dict):
    """A mapping ``name -> value`` (item codes, payload fields, ...) whose errors are keyed by the
    name (``items.volunteer.kind``; a marshmallow Dict says ``items.volunteer.value.kind``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, Mapping):
            raise self.make_error("invalid")
        loaded, errors = {}, {}
        for key, raw in value.items():
            try:
                name = self.key_field.deserialize(key)
                loaded[name] = self.value_field.deserialize(raw)
            except ValidationError as error:
                errors[str(key)] = error.messages
        _raise(errors)
        return loaded


class LevelKey(fields.Integer):
    """A star level as a mapping key, ``5:`` or ``"5":``."""
    default_error_messages = _messages("keys must be star levels 0 to 5")

    def _deserialize(self, value, attr, data, **kwargs):
        level = int(value) if isinstance(value, str) and value.isdigit() else value
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            raise self.make_error("invalid")
        return level


class PerPeriod(Number):
    """One number per period kind, ``{month: x, quarter: y, year: z}``, or one for all three."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, Mapping):
            return _Weights().load(value)
        return dict.fromkeys(PERIOD_KINDS, _NOT_NEGATIVE(super()._deserialize(value, attr, data, **kwargs)))


def _text(what="", pattern=None, must="", **kwargs):
    """A non-blank string; with ``pattern``, one matching it (else: ``'x' is not <what>``)."""
    must = must or (f"must be {what} (a non-empty string)" if what else "must be a non-empty string")
    checks = [validate.Regexp(r"(?s).*\S", error=must)]
    if pattern is not None:
        checks.append(validate.Regexp(pattern, error=f"{{input!r}} is not {what}"))
    return fields.String(validate=checks, error_messages=_messages(must), **kwargs)


def _string(**kwargs):
    return fields.String(error_messages=_messages("must be a string"), **kwargs)


def _key(pattern=None, reason=None):
    """A mapping key: a string, matching ``pattern`` if given."""
    return fields.String(validate=pattern and validate.Regexp(pattern, error=reason),
                         error_messages=_messages("keys must be strings"))


def _one_of(choices, error="must be one of {choices}", **kwargs):
    choices = tuple(choices)
    return fields.Raw(validate=validate.OneOf(choices, error=error), **kwargs,
                      error_messages=_messages(error.format(input=None, choices=", ".join(choices))))


def _choices(choices):
    """At least one of ``choices``; null is the same as leaving the key out."""
    return Seq(_one_of(choices, "unknown value {input!r} (allowed: {choices})"), allow_none=True,
               validate=validate.Length(min=1, error=_NONEMPTY), error_messages=_messages(_NONEMPTY))


def _scores():
    five = "must list exactly 5 minimum scores (for 1, 2, 3, 4 and 5 stars)"
    return Seq(Number(), required=True, validate=validate.Length(equal=5, error=five),
               error_messages=_messages(five))


def _level(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(0, 5, error=_LEVEL),
                          error_messages=_messages(_LEVEL), **kwargs)


def _period():
    """The ``period`` of Model Stars, consequences and subsidies."""
    return _one_of(("quarter", "year"), load_default="year")


def _effective_from(day):
    if isinstance(day, datetime):
        raise ValidationError("must be a date, not a timestamp")
    if day.day != 1:
        raise ValidationError("must be the first day of a month (caps are per month)")


# ---- schemas ---------------------------------------------------------------------------------

class _Schema(Schema):
    """Keys must be strings and known, which is checked first (a misspelt key is reported as
    unknown, not as a missing one). ``make`` (a dataclass or a method) builds the loaded value."""
    error_messages = {"type": "must be a mapping"}
    make = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = [f.data_key or name for name, f in self.load_fields.items()]
        self.error_messages["unknown"] = f"unknown key (allowed: {', '.join(self.keys)})"

    def on_bind_field(self, field_name, field_obj):
        field_obj.error_messages["required"] = "is required"

    @pre_load
    def _known_keys(self, data, **kwargs):
        if isinstance(data, Mapping):
            unknown = self.error_messages["unknown"]
            _raise({str(key): [unknown if isinstance(key, str) else "keys must be strings"]
                    for key in data if key not in self.keys})
        return data

    @post_load
    def _make(self, data, **kwargs):
        return data if self.make is None else self.make(**data)


_Weights = _Schema.from_dict({kind: Number(required=True, validate=_NOT_NEGATIVE) for kind in PERIOD_KINDS})


class ThresholdsSchema(_Schema):
    month, quarter, year = _scores(), _scores(), _scores()
    make = Thresholds

    @validates_schema
    def _increasing(self, data, **kwargs):
        for kind, low in data.items():
            for i in range(1, 5):
                if low[i] <= low[i - 1]:
                    _raise({kind: {i: [f"must increase strictly ({low[i]} after {low[i - 1]})"]}})


class ItemSchema(_Schema):
    name = _text(required=True)
    kind = _one_of(ITEM_KINDS, load_default="merit")
    categories = _choices(CATEGORIES)
    branch_kinds = _choices(BRANCH_KINDS)
    monthly_cap = Number(allow_none=True, validate=_POSITIVE)
    description = _string()

    def make(self, **data):  # the subject makes the Item; null means the default, as if left out
        return {key: value for key, value in data.items() if value is not None}


class RollUpSchema(_Schema):
    child_kind = fields.Raw(data_key="from", required=True, allow_none=True)  # the subject checks it
    aggregate = _one_of(AGGREGATES, required=True)
    weights = PerPeriod(data_key="weight", required=True)
    min_level = _level()
    make = RollUp

    @validates_schema
    def _min_level(self, data, **kwargs):
        if data["aggregate"] == "share_at_least" and "min_level" not in data:
            raise ValidationError("is required for aggregate share_at_least", "min_level")
        if data["aggregate"] != "share_at_least" and "min_level" in data:
            raise ValidationError("only applies to aggregate share_at_least", "min_level")


class MinimumSchema(_Schema):
    """What a Model Star needs of one item."""
    points = Number(validate=_POSITIVE)
    count = fields.Integer(strict=True, validate=validate.Range(min=1, error="must be a positive integer"),
                           error_messages=_messages("must be a positive integer"))

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give points and/or count")


class ModelStarSchema(_Schema):
    period = _period()
    min_level = _level(load_default=5)
    min_items = Keyed(_key(), Part(MinimumSchema), blank=True)
    max_deduction = Number(allow_none=True, validate=_NOT_NEGATIVE)

    def make(self, min_items, **data):
        def minimums(key):
            return {code: need[key] for code, need in min_items.items() if key in need}
        return ModelStarCriteria(min_points=minimums("points"), min_counts=minimums("count"), **data)


class SubjectSchema(_Schema):
    """The subject ``kind`` (``SubjectSchema("member")``); loads as ``(SubjectSpec, {code: Item})``."""
    star = fields.Raw(required=True, allow_none=True)  # checked against the kind
    name = _text()
    thresholds = Part(ThresholdsSchema, required=True)
    items = Keyed(_key(_NAME, "item codes are lower_snake_case"), Part(ItemSchema), blank=True)
    rollup = Part(RollUpSchema, allow_none=True, load_default=None)
    model_star = Part(ModelStarSchema, allow_none=True, load_default=None)

    def __init__(self, kind, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    @validates_schema
    def _fits_kind(self, data, **kwargs):
        kind, child, errors = self.kind, CHILD_OF.get(self.kind), {}
        if data["star"] != STAR_OF[kind]:
            errors["star"] = [f"the star of a {kind} is {STAR_OF[kind]!r}"]
        for code, item in data["items"].items():
            if "categories" in item and kind != "member":
                errors[f"items.{code}.categories"] = ["only member items are scoped by member category"]
            if "branch_kinds" in item and kind != "branch":
                errors[f"items.{code}.branch_kinds"] = ["only branch items are scoped by branch kind"]
        if data["rollup"] is not None and child is None:
            errors["rollup"] = ["a member has no children to roll up"]
        elif data["rollup"] is not None and data["rollup"].child_kind != child:
            errors["rollup.from"] = [f"a {kind} rolls up its {child}s"]
        model = data["model_star"]
        for code in (*model.min_points, *model.min_counts) if model is not None else ():
            if code not in data["items"]:
                errors[f"model_star.min_items.{code}"] = [f"not an item of subject {kind}"]
        _raise(errors)

    def make(self, items, name=None, **data):
        return (SubjectSpec(kind=self.kind, name=name or STAR_OF[self.kind], **data),
                {code: Item(code=code, subject_kind=self.kind, **item) for code, item in items.items()})


class SubjectsSchema(_Schema):
    """Loads as ``({kind: SubjectSpec}, {code: Item})``."""
    member = Part(SubjectSchema("member"))
    branch = Part(SubjectSchema("branch"))
    committee = Part(SubjectSchema("committee"))

    @validates_schema
    def _together(self, data, **kwargs):
        if not data:
            raise ValidationError("must define at least one subject kind")
        errors, owner = {}, {}
        for kind, (spec, items) in data.items():
            for code in items:
                if code in owner:
                    errors[f"{kind}.items.{code}"] = [f"item code already used by subject {owner[code]}"]
                owner.setdefault(code, kind)
            if spec.rollup is not None and spec.rollup.child_kind not in data:
                errors[f"{kind}.rollup.from"] = [f"subject kind {spec.rollup.child_kind} is not defined"]
        _raise(errors)

    def make(self, **data):
        items = {code: item for _, own in data.values() for code, item in own.items()}
        return {kind: spec for kind, (spec, _) in data.items()}, items


class OperatorsSchema(_Schema):
    eq = Scalar(allow_none=True)
    in_ = Seq(Scalar(allow_none=True), data_key="in", attribute="in",
              validate=validate.Length(min=1, error=_NONEMPTY), error_messages=_messages(_NONEMPTY))
    gte, lte = Number(), Number()
    present = Flag()

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError(f"give at least one of {', '.join(CONDITION_OPS)}")


class FieldTest(fields.Field):
    """One entry of ``when``, loaded as ``{op: value}``: a mapping of operators, or a bare value
    meaning ``{eq: value}``."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if isinstance(value, list):
            raise ValidationError("a list is not a value: write {in: [...]} to accept several values")
        if isinstance(value, Mapping):
            return OperatorsSchema().load(value)
        return {"eq": Scalar(allow_none=True).deserialize(value)}


class PointsSchema(_Schema):
    fixed = Number()
    per = _text("a payload field name", _FIELD)
    amount = Number(validate=validate.NoneOf([0], error="must not be 0"))
    unit = Number(validate=_POSITIVE)
    whole_units = Flag()
    quantum = Number(validate=_POSITIVE)
    rounding = _one_of(ROUNDING)
    max_per_event = Number(allow_none=True, validate=_POSITIVE)
    make = Points  # a key left out takes the dataclass default

    @validates_schema
    def _fixed_or_per(self, data, **kwargs):
        if ("fixed" in data) == ("per" in data):
            raise ValidationError("give exactly one of fixed or per")
        if "fixed" in data:
            _raise({key: ["only applies with per"] for key in ("amount", "unit", "whole_units")
                    if key in data})
        elif "amount" not in data:
            raise ValidationError("is required with per (points per unit)", "amount")


class RuleSchema(_Schema):
    id = _text(required=True)
    source = _text("a service name", _NAME, required=True)
    type = _text("an event type", _NAME, required=True)
    when = Keyed(_key(_FIELD, "not a valid payload field name"), FieldTest(), blank=True)
    item = _text("an item code", required=True)
    subject_field = _text("a payload field name", _FIELD)
    points = Part(PointsSchema, required=True)
    note = _string()

    def make(self, when, subject_field=None, **data):  # _linked adds what the item decides
        conditions = tuple(Condition(name, op, value)
                           for name, ops in when.items() for op, value in ops.items())
        return Rule(conditions=conditions, subject_kind=None, subject_field=subject_field, **data)


class ConsequencesSchema(_Schema):
    period = _period()
    award_priority = Part(_Schema.from_dict({"min_level": _level(load_default=4)}), blank=True)
    unqualified_review = Part(_Schema.from_dict({"max_level": _level(load_default=1)}), blank=True)

    @validates_schema
    def _apart(self, data, **kwargs):
        award = data["award_priority"]["min_level"]
        if data["unqualified_review"]["max_level"] >= award:
            _raise({"unqualified_review.max_level": [f"must be below award_priority.min_level ({award})"]})

    def make(self, period, award_priority, unqualified_review):
        return Consequences(period=period, award_min_level=award_priority["min_level"],
                            review_max_level=unqualified_review["max_level"])


class SubsidySchema(_Schema):
    period = _period()
    base = Number(required=True, validate=_NOT_NEGATIVE)
    factors = Keyed(LevelKey(), Number(validate=_NOT_NEGATIVE), required=True,
                    error_messages=_messages("must be a mapping from star level (0-5) to factor"))
    make = Subsidy

    @validates_schema
    def _factors(self, data, **kwargs):
        factors = data["factors"]
        problems = ([(n, "is required (one factor per star level 0-5)") for n in LEVELS if n not in factors]
                    or [(n, "4-5 star branches get a bonus: factor must be >= 1")
                        for n in (4, 5) if factors[n] < 1]
                    or [(n, "0-2 star branches get a deduction: factor must be <= 1")
                        for n in (0, 1, 2) if factors[n] > 1]
                    or [(n, "factors must not decrease as stars increase")
                        for n in range(1, 6) if factors[n] < factors[n - 1]])
        _raise({f"factors.{n}": [reason] for n, reason in problems[:1]})


class RulebookSchema(_Schema):
    version = _text(required=True, must='must be a non-empty string (quote numbers such as "2026.1")')
    effective_from = fields.Date(required=True, validate=_effective_from,
                                 error_messages={"invalid": "not an ISO date (YYYY-MM-DD): {input!r}",
                                                 "null": "must be a date (YYYY-MM-DD)"})
    description = _string(allow_none=True)
    events = Keyed(_key(_EVENT, "event keys are written source.type, e.g. members.activity_recorded"),
                   Keyed(_key(_FIELD, "not a valid field name"),
                         _one_of(FIELD_TYPES, "unknown payload field type {input!r} (allowed: {choices})")),
                   blank=True)
    subjects = Part(SubjectsSchema, required=True)
    rules = Seq(Part(RuleSchema), required=True)
    consequences = Part(ConsequencesSchema, blank=True)
    subsidy = Part(SubsidySchema, allow_none=True, load_default=None)

    @validates_schema(pass_original=True)
    def _cross_references(self, data, original, **kwargs):
        _raise(_rule_problems(data["rules"], data["subjects"][1], data["events"], original["rules"]))

    def make(self, subjects, rules, description=None, **data):
        subjects, items = subjects
        return Rulebook(subjects=subjects, items=items, **data,
                        rules=tuple(_linked(rule, items[rule.item]) for rule in rules))


# ---- cross-references of the rules -----------------------------------------------------------

def _linked(rule: Rule, item: Item) -> Rule:
    """``rule`` with the subject kind of its item and, unless given, that kind's id field."""
    return replace(rule, subject_kind=item.subject_kind,
                   subject_field=rule.subject_field or ID_FIELD_OF[item.subject_kind])


def _rule_problems(rules, items, events, raw_rules) -> dict[str, list[str]]:
    """Rule ids are unique and items known; each rule fits its item (sign of the points, category or
    branch-kind scope) and the declared payload fields of its event (when declared)."""
    problems, first = {}, {}
    for index, (rule, raw) in enumerate(zip(rules, raw_rules)):
        found = []
        if rule.id in first:
            found.append(("id", f"duplicate rule id {rule.id!r} (also rules[{first[rule.id]}])"))
        first.setdefault(rule.id, index)
        item = items.get(rule.item)
        if item is None:
            found.append(("item", f"unknown item {rule.item!r}"))
        else:
            declared = events.get(f"{rule.source}.{rule.type}")
            if declared is not None:
                found += _payload_problems(_linked(rule, item), declared, raw.get("when") or {})
            found += _sign_problems(item, rule.points) + _scope_problems(item, rule.conditions)
        for key, reason in found:
            problems.setdefault(f"rules[{index}].{key}", []).append(reason)
    return problems


def _payload_problems(rule: Rule, declared, raw_when) -> list[tuple[str, str]]:
    """The payload fields ``rule`` reads, against the field types ``declared`` for its event."""
    def unknown(name, types=()):
        if name not in declared:
            return f"unknown payload field {name!r} for {rule.source}.{rule.type}"
        if types and declared[name] not in types:
            return f"payload field {name!r} is {declared[name]}, expected {' or '.join(types)}"
        return None

    found = [("subject_field", unknown(rule.subject_field, ("integer", "string")))]
    for name, op, value in ((c.field, c.op, c.value) for c in rule.conditions):
        kind = declared.get(name)
        key = f"when.{name}.{op}" if isinstance(raw_when[name], Mapping) else f"when.{name}"
        if kind is None:
            found.append((f"when.{name}", unknown(name)))
        elif op in ("gte", "lte") and kind not in NUMERIC_TYPES:
            found.append((key, f"payload field {name!r} is {kind}, {op} needs a number"))
        else:
            values = (value,) if op == "eq" else value if op == "in" else ()
            wrong = [v for v in values if not _matches_type(v, kind)]
            if wrong:
                found.append((key, f"{wrong[0]!r} can never equal payload field {name!r} of type {kind}"))
    if rule.points.per is not None:
        found.append(("points.per", unknown(rule.points.per, NUMERIC_TYPES)))
    return [(key, reason) for key, reason in found if reason]


def _matches_type(value, field_type) -> bool:
    if value is None:
        return True
    if field_type in NUMERIC_TYPES:
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if field_type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)  # string, date (ISO)


_SIGNS = {"merit": ((1,), "a merit item: points must be positive"),
          "deduction": ((-1,), "a deduction item (减星项): points must be negative"),
          "veto": ((0, -1), "a veto item (否决项): points must be 0 or negative")}


def _sign_problems(item: Item, points: Points) -> list[tuple[str, str]]:
    signs, must = _SIGNS[item.kind]
    if points.sign in signs:
        return []
    return [("points.fixed" if points.per is None else "points.amount", f"item {item.code} is {must}")]


def _scope_problems(item: Item, conditions) -> list[tuple[str, str]]:
    """A rule crediting an item of some categories (branch kinds) only must be restricted to them."""
    def restricted(name):  # the values conditions on ``name`` allow; None: any value
        allowed = [{c.value} if c.op == "eq" else set(c.value)
                   for c in conditions if c.field == name and c.op in ("eq", "in")]
        return set.intersection(*allowed) if allowed else None

    found, categories = [], restricted("category")
    if item.categories and (categories is None or not categories <= set(item.categories)):
        found.append(("when.category", f"item {item.code} is for categories {', '.join(item.categories)} "
                                       f"only: restrict category to them"))
    if item.branch_kinds:
        kinds = restricted("branch_kind")
        if kinds is None and categories is not None:
            kinds = {BRANCH_KIND_OF_CATEGORY.get(c) for c in categories}
        if kinds is None or not kinds <= set(item.branch_kinds):
            found.append(("when.branch_kind", f"item {item.code} is for branch kinds "
                                              f"{', '.join(item.branch_kinds)} only: restrict branch_kind "
                                              f"(or category) to them"))
    return found
