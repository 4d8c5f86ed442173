"""The power list (权力清单) and the procedure rules, read from ``config/affairs.yaml``.

``load_rules(mapping)`` checks the mapping and returns a frozen ``Rules``; a mistake raises
``ValueError("<key path>: <reason>")`` naming the first offending key, e.g.
``items.seal_use.procedure: unknown procedure 'lite'``. ``settings(config)`` reads the default
file merged with the running config's ``affairs:`` section (mappings merged one level deep), so
a county overrides its thresholds, notice periods or public base URL in its own config.

Everything the procedure decides (which steps an item needs, quorum and majority of each meeting
form, what a voted-down step does, notice periods, due days, how much a violation weighs) comes
from here; ``procedure.py`` and ``quorum.py`` apply it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from shared import config as config_module

STEP_KINDS = ("meeting", "publication", "execution", "acceptance")
AMOUNT_RULES = ("required", "optional", "none")
SEVERITIES = ("major", "minor")
VIOLATION_KINDS = ("step_skipped", "execution_before_resolution", "out_of_order", "no_quorum",
                   "notice_period_short")
MERGED_KEYS = ("amount_thresholds", "categories", "items", "procedures", "steps", "meetings",
               "violations", "supervision", "publication", "evidence")


@dataclass(frozen=True)
class Share:
    """``more_than`` or ``at_least`` a fraction of a whole."""

    op: str
    fraction: Fraction

    def met(self, count: int, whole: int) -> bool:
        scaled, bound = count * self.fraction.denominator, whole * self.fraction.numerator
        return scaled > bound if self.op == "more_than" else scaled >= bound

    def needed(self, whole: int) -> int:
        """The smallest count that meets the share of ``whole``."""
        bound, denominator = whole * self.fraction.numerator, self.fraction.denominator
        if self.op == "more_than":
            return bound // denominator + 1
        return -(-bound // denominator)

    def describe(self) -> str:
        return f"{self.op.replace('_', ' ')} {self.fraction}"


@dataclass(frozen=True)
class Meeting:
    code: str
    name: str
    quorum: Share
    majority: Share
    majority_of: str            # present | members


@dataclass(frozen=True)
class Step:
    code: str
    name: str
    kind: str
    meetings: tuple[str, ...] = ()
    on_rejection: str = "end"   # end | return
    notice_days: int = 0
    due_days: int | None = None


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    steps: tuple[str, ...]

    def index(self, step: str) -> int:
        return self.steps.index(step)

    def before(self, step: str) -> tuple[str, ...]:
        return self.steps[:self.index(step)]


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    category: str
    procedure: str
    amount: str = "optional"
    threshold: str | None = None
    below_threshold: str | None = None


@dataclass(frozen=True)
class Rules:
    categories: dict[str, str]
    items: dict[str, Item]
    procedures: dict[str, Procedure]
    steps: dict[str, Step]
    meetings: dict[str, Meeting]
    thresholds: dict[str, Decimal]
    severities: dict[str, str]
    sign_off_every_step: bool = True
    objection_answer_days: int = 15
    base_url: str = ""
    channels: tuple[str, ...] = ()
    evidence_folder: Path = Path("var/affairs-evidence")
    evidence_max_bytes: int = 5 * 1024 * 1024
    evidence_kinds: tuple[str, ...] = ()
    proposing_unit_kinds: tuple[str, ...] = ("village_branch",)
    deciding_steps: dict[str, str] = field(default_factory=dict)

    def procedure_for(self, item_code: str, amount: Decimal | None) -> Procedure:
        """The procedure ``item_code`` requires for ``amount`` (the lighter one under its
        threshold)."""
        item = self.items[item_code]
        if item.threshold and amount is not None and amount < self.thresholds[item.threshold]:
            return self.procedures[item.below_threshold]
        return self.procedures[item.procedure]

    def deciding_step(self, procedure: Procedure) -> str:
        """The meeting whose adoption resolves the matter: the procedure's last meeting."""
        return self.deciding_steps[procedure.code]

    def public_url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"


class _Checker:
    def fail(self, key, reason):
        raise ValueError(f"{key}: {reason}")

    def mapping(self, value, key) -> dict:
        if not isinstance(value, dict) or not value:
            self.fail(key, "must be a non-empty mapping")
        return value

    def text(self, value, key) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be non-empty text")
        return value

    def code(self, value, key) -> str:
        if not isinstance(value, str) or not value.isidentifier() or not value.islower():
            self.fail(key, f"{value!r} is not a lower-case code")
        return value

    def choice(self, value, choices, key) -> str:
        if value not in choices:
            self.fail(key, f"must be one of {', '.join(choices)} (found {value!r})")
        return value

    def days(self, value, key, allow_none=False) -> int | None:
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            self.fail(key, "must be a whole number of days from 0 to 3650")
        return value


def _share(check, spec, key) -> Share:
    spec = check.mapping(spec, key)
    ops = [op for op in ("more_than", "at_least") if op in spec]
    if len(ops) != 1:
        check.fail(key, "needs exactly one of more_than, at_least")
    try:
        fraction = Fraction(str(spec[ops[0]]))
    except (ValueError, ZeroDivisionError):
        check.fail(f"{key}.{ops[0]}", f"{spec[ops[0]]!r} is not a fraction like 2/3")
    if not 0 <= fraction <= 1:
        check.fail(f"{key}.{ops[0]}", "must be from 0 to 1")
    return Share(ops[0], fraction)


def _amount(check, value, key) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        check.fail(key, f"{value!r} is not an amount")
    if not amount.is_finite() or amount < 0:
        check.fail(key, "must be a finite amount of 0 or more")
    return amount


def load_rules(spec: dict) -> Rules:
    """Check ``spec`` (the parsed YAML) and build the ``Rules``."""
    check = _Checker()
    spec = check.mapping(spec, "affairs")
    thresholds = {check.code(k, f"amount_thresholds.{k}"): _amount(check, v, f"amount_thresholds.{k}")
                  for k, v in (spec.get("amount_thresholds") or {}).items()}
    categories = {check.code(k, f"categories.{k}"): check.text(v, f"categories.{k}")
                  for k, v in check.mapping(spec.get("categories"), "categories").items()}

    meetings = {}
    for code, m in check.mapping(spec.get("meetings"), "meetings").items():
        key = f"meetings.{check.code(code, f'meetings.{code}')}"
        m = check.mapping(m, key)
        majority = check.mapping(m.get("majority"), f"{key}.majority")
        meetings[code] = Meeting(code, check.text(m.get("name"), f"{key}.name"),
                                 _share(check, m.get("quorum"), f"{key}.quorum"),
                                 _share(check, {k: v for k, v in majority.items() if k != "of"},
                                        f"{key}.majority"),
                                 check.choice(majority.get("of", "present"), ("present", "members"),
                                              f"{key}.majority.of"))

    steps = {}
    for code, s in check.mapping(spec.get("steps"), "steps").items():
        key = f"steps.{check.code(code, f'steps.{code}')}"
        s = check.mapping(s, key)
        kind = check.choice(s.get("kind"), STEP_KINDS, f"{key}.kind")
        forms = tuple(s.get("meetings") or ())
        if kind == "meeting" and not forms:
            check.fail(f"{key}.meetings", "a meeting step names the meeting forms that may hold it")
        for form in forms:
            check.choice(form, tuple(meetings), f"{key}.meetings")
        steps[code] = Step(code, check.text(s.get("name"), f"{key}.name"), kind, forms,
                           check.choice(s.get("on_rejection", "end"), ("end", "return"),
                                        f"{key}.on_rejection"),
                           check.days(s.get("notice_days", 0), f"{key}.notice_days"),
                           check.days(s.get("due_days"), f"{key}.due_days", allow_none=True))

    procedures, deciding = {}, {}
    for code, p in check.mapping(spec.get("procedures"), "procedures").items():
        key = f"procedures.{check.code(code, f'procedures.{code}')}"
        p = check.mapping(p, key)
        names = p.get("steps")
        if not isinstance(names, list) or len(names) < 3 or len(set(names)) != len(names):
            check.fail(f"{key}.steps", "must list at least three different steps")
        for name in names:
            check.choice(name, tuple(steps), f"{key}.steps")
        kinds = [steps[name].kind for name in names]
        if kinds[0] != "meeting" or kinds[-1] != "acceptance" or kinds.count("acceptance") != 1:
            check.fail(f"{key}.steps", "must start with a meeting (the proposal) and end with "
                                       "the one acceptance")
        if "execution" not in kinds or kinds.count("execution") != 1:
            check.fail(f"{key}.steps", "must hold exactly one execution step")
        if kinds.index("execution") < max(i for i, k in enumerate(kinds) if k == "meeting"):
            check.fail(f"{key}.steps", "execution comes after every meeting")
        if steps[names[0]].on_rejection == "return":
            check.fail(f"steps.{names[0]}.on_rejection", "the first step cannot return")
        procedures[code] = Procedure(code, check.text(p.get("name"), f"{key}.name"), tuple(names))
        deciding[code] = [name for name, kind in zip(names, kinds) if kind == "meeting"][-1]

    items = {}
    for code, i in check.mapping(spec.get("items"), "items").items():
        key = f"items.{check.code(code, f'items.{code}')}"
        i = check.mapping(i, key)
        threshold, below = i.get("threshold"), i.get("below_threshold")
        if (threshold is None) != (below is None):
            check.fail(key, "threshold and below_threshold go together")
        if threshold is not None:
            check.choice(threshold, tuple(thresholds), f"{key}.threshold")
            check.choice(below, tuple(procedures), f"{key}.below_threshold")
        amount = check.choice(i.get("amount", "optional"), AMOUNT_RULES, f"{key}.amount")
        if threshold is not None and amount != "required":
            check.fail(f"{key}.amount", "an item with a threshold needs its amount (required)")
        items[code] = Item(code, check.text(i.get("name"), f"{key}.name"),
                           check.choice(i.get("category"), tuple(categories), f"{key}.category"),
                           check.choice(i.get("procedure"), tuple(procedures), f"{key}.procedure"),
                           amount, threshold, below)

    severities = {}
    for kind in VIOLATION_KINDS:
        severities[kind] = check.choice((spec.get("violations") or {}).get(kind, "major"),
                                        SEVERITIES, f"violations.{kind}")
    supervision = spec.get("supervision") or {}
    publication = spec.get("publication") or {}
    evidence = spec.get("evidence") or {}
    base_url = check.text(publication.get("base_url"), "publication.base_url")
    if not base_url.startswith(("http://", "https://")):
        check.fail("publication.base_url", "must start with http:// or https://")
    max_bytes = evidence.get("max_bytes", 5 * 1024 * 1024)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1 <= max_bytes <= 2**30:
        check.fail("evidence.max_bytes", "must be a whole number of bytes from 1 to 2**30")
    folder = Path(check.text(evidence.get("folder", "var/affairs-evidence"), "evidence.folder"))
    return Rules(
        categories=categories, items=items, procedures=procedures, steps=steps, meetings=meetings,
        thresholds=thresholds, severities=severities,
        sign_off_every_step=bool(supervision.get("sign_off_every_step", True)),
        objection_answer_days=check.days(supervision.get("objection_answer_days", 15),
                                         "supervision.objection_answer_days"),
        base_url=base_url,
        channels=tuple(publication.get("channels") or ("board",)),
        evidence_folder=folder if folder.is_absolute() else config_module.ROOT / folder,
        evidence_max_bytes=max_bytes,
        evidence_kinds=tuple(evidence.get("kinds") or ("other",)),
        proposing_unit_kinds=tuple(spec.get("proposing_unit_kinds") or ("village_branch",)),
        deciding_steps=deciding)


def merged(defaults: dict, overrides: dict | None) -> dict:
    """``defaults`` with ``overrides`` on top; mappings among ``MERGED_KEYS`` merged one level."""
    result = dict(defaults)
    for key, value in (overrides or {}).items():
        if key in MERGED_KEYS and isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def settings(config: dict | None) -> Rules:
    """The rules in force: ``config/affairs.yaml`` under the running config's ``affairs:``."""
    return load_rules(merged(config_module.load_yaml("affairs.yaml"),
                             (config or {}).get("affairs")))


def as_dict(rules: Rules) -> dict:
    """The power list as the ``power_list`` RPC tells it: categories with their items and the
    procedure each requires, the procedures' steps, the meeting rules and the thresholds."""
    def item(i: Item) -> dict:
        return {"code": i.code, "name": i.name, "procedure": i.procedure, "amount": i.amount,
                "threshold": None if i.threshold is None else f"{rules.thresholds[i.threshold]:.2f}",
                "below_threshold": i.below_threshold}

    return {
        "categories": [{"code": code, "name": name,
                        "items": [item(i) for i in rules.items.values() if i.category == code]}
                       for code, name in rules.categories.items()],
        "procedures": {p.code: {"name": p.name, "steps": list(p.steps),
                                "deciding_step": rules.deciding_step(p)}
                       for p in rules.procedures.values()},
        "steps": {s.code: {"name": s.name, "kind": s.kind, "meetings": list(s.meetings),
                           "on_rejection": s.on_rejection, "notice_days": s.notice_days,
                           "due_days": s.due_days} for s in rules.steps.values()},
        "meetings": {m.code: {"name": m.name, "quorum": f"{m.quorum.describe()} of the members",
                              "majority": f"{m.majority.describe()} of the {m.majority_of}"}
                     for m in rules.meetings.values()},
        "violations": dict(rules.severities),
        "channels": list(rules.channels),
        "evidence_kinds": list(rules.evidence_kinds),
    }
