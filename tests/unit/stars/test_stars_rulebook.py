from datetime import date, datetime
from decimal import Decimal

import pytest
import yaml

from services.stars.rulebook import (STAR_OF, load_rulebook, load_rulebooks, rulebook_for)


def test_default_rulebook_loads_with_every_section(default_book):
    book = default_book
    assert book.version == "2026.1"
    assert book.effective_from == date(2026, 1, 1)
    assert {k: s.star for k, s in book.subjects.items()} == STAR_OF
    kinds = {item.kind for item in book.items.values()}
    assert kinds == {"merit", "deduction", "veto"}
    members = book.items_of("member")
    assert {c for item in members for c in item.categories} == {"rural", "community", "institution",
                                                                  "nonpublic"}
    assert any(item.common for item in members)
    branch_kinds = {k for item in book.items_of("branch") for k in item.branch_kinds}
    assert branch_kinds == {"village", "community", "institution", "nonpublic"}
    assert book.subjects["branch"].rollup.aggregate == "mean"
    assert book.subjects["committee"].rollup.aggregate == "share_at_least"
    assert book.subjects["member"].model_star.min_level == 5
    assert book.consequences.award_min_level == 4 and book.consequences.review_max_level == 1
    assert book.subsidy.factors[5] > 1 > book.subsidy.factors[2]
    assert all(isinstance(v, Decimal) for v in book.subsidy.factors.values())
    assert book.rules_for("members", "activity_recorded")
    assert {rule.id for rule in book.rules_for("tickets", "ticket_resolved")} == {
        "member-proxy-agent", "branch-proxy-agent", "committee-service-centre"}


def test_load_rulebooks_from_directory(tmp_path, spec):
    spec["effective_from"] = "2026-01-01"
    (tmp_path / "stars-2026.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    spec["version"], spec["effective_from"] = "test-2", "2026-07-01"
    (tmp_path / "stars-2026b.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    books = load_rulebooks(tmp_path)
    assert [b.version for b in books] == ["test-1", "test-2"]


def test_file_errors_are_prefixed_with_the_file_name(tmp_path, spec):
    spec["rules"][0]["points"]["rounding"] = "sideways"
    path = tmp_path / "stars-bad.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"^stars-bad\.yaml: rules\[0\]\.points\.rounding: must be one of"):
        load_rulebook(path)


def _set(path, value):
    def change(spec):
        *parents, last = path
        target = spec
        for key in parents:
            target = target[key]
        target[last] = value
    return change


def _delete(path):
    def change(spec):
        *parents, last = path
        target = spec
        for key in parents:
            target = target[key]
        del target[last]
    return change


def _declare_events(spec):
    spec["events"] = {"members.activity_recorded": {"kind": "string", "hours": "decimal",
                                                   "member_id": "integer", "attended": "boolean",
                                                   "category": "string", "households": "integer",
                                                   "branch_id": "integer"}}


def _with_events(change):
    def both(spec):
        _declare_events(spec)
        change(spec)
    return both


BAD = [
    (_delete(("version",)), "version: is required"),
    (_set(("version",), 2026.1), "version: must be a non-empty string"),
    (_set(("effective_from",), "2026-01-15"), "effective_from: must be the first day of a month"),
    (_set(("effective_from",), "soon"), "effective_from: not an ISO date"),
    (_set(("colour",), "red"), "colour: unknown key"),
    (_set(("subjects", "member", "star"), "fortress"), "subjects.member.star: the star of a member is 'vanguard'"),
    (_set(("subjects", "cadre"), {}), "subjects.cadre: unknown key"),
    (_set(("subjects", "member", "thresholds", "quarter"), [10, 20, 20, 40, 50]),
     "subjects.member.thresholds.quarter[2]: must increase strictly"),
    (_set(("subjects", "branch", "thresholds", "month"), [1, 2, 3]),
     "subjects.branch.thresholds.month: must list exactly 5"),
    (_delete(("subjects", "committee", "thresholds", "year")), "subjects.committee.thresholds.year: is required"),
    (_set(("subjects", "member", "items", "volunteer", "kind"), "bonus"),
     "subjects.member.items.volunteer.kind: must be one of merit, deduction, veto"),
    (_set(("subjects", "member", "items", "volunteer", "monthly_cap"), 0),
     "subjects.member.items.volunteer.monthly_cap: must be greater than 0"),
    (_set(("subjects", "member", "items", "pairing", "categories"), ["farmers"]),
     "subjects.member.items.pairing.categories[0]: unknown value 'farmers'"),
    (_set(("subjects", "branch", "items", "volunteer"), {"name": "重复"}),
     "subjects.branch.items.volunteer: item code already used by subject member"),
    (_set(("subjects", "branch", "rollup", "aggregate"), "max"), "subjects.branch.rollup.aggregate: must be one of"),
    (_set(("subjects", "branch", "rollup", "from"), "committee"), "subjects.branch.rollup.from: a branch rolls up its members"),
    (_delete(("subjects", "committee", "rollup", "min_level")),
     "subjects.committee.rollup.min_level: is required for aggregate share_at_least"),
    (_set(("subjects", "committee", "rollup", "weight"), {"month": 1, "quarter": 3}),
     "subjects.committee.rollup.weight.year: is required"),
    (_set(("subjects", "member", "model_star", "min_items", "life"), {"points": 1}),
     "subjects.member.model_star.min_items.life: not an item of subject member"),
    (_set(("subjects", "member", "model_star", "min_level"), 6),
     "subjects.member.model_star.min_level: must be a star level"),
    (_set(("rules",), {"id": "x"}), "rules: must be a list"),
    (_set(("rules", 1, "id"), "vol"), "rules[1].id: duplicate rule id 'vol' (also rules[0])"),
    (_set(("rules", 2, "item"), "nothing"), "rules[2].item: unknown item 'nothing'"),
    (_set(("rules", 0, "bonus"), 1), "rules[0].bonus: unknown key"),
    (_set(("rules", 0, "type"), "Activity Recorded"), "rules[0].type: 'Activity Recorded' is not an event type"),
    (_set(("rules", 0, "when", "hours"), {"between": [1, 2]}), "rules[0].when.hours.between: unknown key"),
    (_set(("rules", 0, "when", "hours"), {"gte": "lots"}), "rules[0].when.hours.gte: must be a number"),
    (_set(("rules", 0, "when", "kind"), {"in": []}), "rules[0].when.kind.in: must be a non-empty list"),
    (_set(("rules", 0, "when", "kind"), ["meeting", "study"]), "rules[0].when.kind: a list is not a value"),
    (_set(("rules", 0, "when", "team_id"), {"present": "yes"}), "rules[0].when.team_id.present: must be true or false"),
    (_set(("rules", 0, "points"), {"fixed": 1, "per": "hours"}), "rules[0].points: give exactly one of fixed or per"),
    (_set(("rules", 0, "points"), {"per": "hours"}), "rules[0].points.amount: is required with per"),
    (_set(("rules", 0, "points", "quantum"), 0), "rules[0].points.quantum: must be greater than 0"),
    (_set(("rules", 1, "points"), {"fixed": 2, "unit": 3}), "rules[1].points.unit: only applies with per"),
    (_set(("rules", 1, "points"), {"fixed": -2}), "rules[1].points.fixed: item meeting is a merit item"),
    (_set(("rules", 3, "points"), {"fixed": 3}), "rules[3].points.fixed: item absence is a deduction item"),
    (_set(("rules", 4, "points"), {"fixed": 1}), "rules[4].points.fixed: item violation is a veto item"),
    (_set(("rules", 2, "when"), {"kind": "pairing"}), "rules[2].when.category: item pairing is for categories rural only"),
    (_set(("rules", 2, "when", "category"), {"in": ["rural", "community"]}),
     "rules[2].when.category: item pairing is for categories rural only"),
    (_set(("rules", 5, "item"), "village_work"), "rules[5].when.branch_kind: item village_work is for branch kinds village"),
    (_set(("events",), {"members.activity_recorded": {"hours": "float"}}),
     "events.members.activity_recorded.hours: unknown payload field type 'float'"),
    (_set(("events",), {"activity_recorded": {}}), "events.activity_recorded: event keys are written source.type"),
    (_with_events(_set(("rules", 0, "points", "per"), "hourz")),
     "rules[0].points.per: unknown payload field 'hourz' for members.activity_recorded"),
    (_with_events(_set(("rules", 0, "points", "per"), "kind")),
     "rules[0].points.per: payload field 'kind' is string, expected integer or decimal"),
    (_with_events(_set(("rules", 0, "when", "colour"), "red")),
     "rules[0].when.colour: unknown payload field 'colour' for members.activity_recorded"),
    (_with_events(_set(("rules", 1, "when", "attended"), "yes")),
     "rules[1].when.attended: 'yes' can never equal payload field 'attended' of type boolean"),
    (_with_events(_set(("rules", 0, "when", "kind"), {"gte": 1})),
     "rules[0].when.kind.gte: payload field 'kind' is string, gte needs a number"),
    (_with_events(_set(("rules", 0, "subject_field"), "volunteer_id")),
     "rules[0].subject_field: unknown payload field 'volunteer_id' for members.activity_recorded"),
    (_set(("consequences", "unqualified_review", "max_level"), 4),
     "consequences.unqualified_review.max_level: must be below award_priority.min_level (4)"),
    (_delete(("subsidy", "factors", 3)), "subsidy.factors.3: is required"),
    (_set(("subsidy", "factors", 4), 0.95), "subsidy.factors.4: 4-5 star branches get a bonus"),
    (_set(("subsidy", "factors", 1), 1.05), "subsidy.factors.1: 0-2 star branches get a deduction"),
    (_set(("subsidy", "factors", 1), 0.6), "subsidy.factors.1: factors must not decrease"),
    (_set(("subsidy", "factors", 9), 1), "subsidy.factors.9: keys must be star levels 0 to 5"),
    (_set(("subsidy", "base"), "a lot"), "subsidy.base: must be a number"),
]

# Checks that had no case above.
BAD += [
    (_set((5,), 1), "5: keys must be strings"),
    (_set(("subjects", "member", "items", 5), {"name": "x"}), "subjects.member.items.5: keys must be strings"),
    (_set(("colour",), "red"), "colour: unknown key (allowed: version, effective_from, description, events, "
                               "subjects, rules, consequences, subsidy)"),
    (_set(("rules", 0, "itme"), "volunteer"), "rules[0].itme: unknown key"),  # not "rules[0].item: is required"
    (_delete(("rules", 0, "points")), "rules[0].points: is required"),
    (_set(("effective_from",), datetime(2026, 1, 1, 8, 0)), "effective_from: must be a date, not a timestamp"),
    (_set(("description",), ["a", "b"]), "description: must be a string"),
    (_set(("events",), {"members.activity_recorded": None}), "events.members.activity_recorded: must be a mapping"),
    (_set(("events",), {"members.activity_recorded": {"hours-x": "decimal"}}),
     "events.members.activity_recorded.hours-x: not a valid field name"),
    (_set(("subjects",), {}), "subjects: must define at least one subject kind"),
    (_set(("subjects", "member", "name"), " "), "subjects.member.name: must be a non-empty string"),
    (_set(("subjects", "member", "thresholds", "year", 1), "lots"), "subjects.member.thresholds.year[1]: must be a number"),
    (_set(("subjects", "member", "items", "Volunteer"), {"name": "x"}),
     "subjects.member.items.Volunteer: item codes are lower_snake_case"),
    (_delete(("subjects", "member", "items", "volunteer", "name")), "subjects.member.items.volunteer.name: is required"),
    (_set(("subjects", "member", "items", "pairing", "categories"), []),
     "subjects.member.items.pairing.categories: must be a non-empty list"),
    (_set(("subjects", "branch", "items", "life", "categories"), ["rural"]),
     "subjects.branch.items.life.categories: only member items are scoped by member category"),
    (_set(("subjects", "member", "items", "volunteer", "branch_kinds"), ["village"]),
     "subjects.member.items.volunteer.branch_kinds: only branch items are scoped by branch kind"),
    (_set(("subjects", "member", "items", "volunteer", "description"), 3),
     "subjects.member.items.volunteer.description: must be a string"),
    (_set(("subjects", "member", "rollup"), {"from": "member", "aggregate": "mean", "weight": 1}),
     "subjects.member.rollup: a member has no children to roll up"),
    (_delete(("subjects", "member")), "subjects.branch.rollup.from: subject kind member is not defined"),
    (_set(("subjects", "branch", "rollup", "weight"), -1), "subjects.branch.rollup.weight: must not be negative"),
    (_set(("subjects", "branch", "rollup", "min_level"), 3),
     "subjects.branch.rollup.min_level: only applies to aggregate share_at_least"),
    (_set(("subjects", "member", "model_star", "period"), "month"),
     "subjects.member.model_star.period: must be one of quarter, year"),
    (_set(("subjects", "member", "model_star", "min_items", "volunteer"), {}),
     "subjects.member.model_star.min_items.volunteer: give points and/or count"),
    (_set(("subjects", "member", "model_star", "min_items", "volunteer"), {"points": 0}),
     "subjects.member.model_star.min_items.volunteer.points: must be greater than 0"),
    (_set(("subjects", "member", "model_star", "min_items", "meeting"), {"count": 1.5}),
     "subjects.member.model_star.min_items.meeting.count: must be a positive integer"),
    (_set(("subjects", "member", "model_star", "max_deduction"), -1),
     "subjects.member.model_star.max_deduction: must not be negative"),
    (_set(("rules", 0, "source"), "Members"), "rules[0].source: 'Members' is not a service name"),
    (_set(("rules", 0, "subject_field"), "member id"), "rules[0].subject_field: 'member id' is not a payload field name"),
    (_set(("rules", 0, "note"), 1), "rules[0].note: must be a string"),
    (_set(("rules", 0, "when", "2nd"), 1), "rules[0].when.2nd: not a valid payload field name"),
    (_set(("rules", 0, "when", "kind"), {}), "rules[0].when.kind: give at least one of eq, in, gte, lte, present"),
    (_set(("rules", 0, "when", "kind"), {"eq": ["a"]}),
     "rules[0].when.kind.eq: condition values must be strings, numbers, booleans or null"),
    (_set(("rules", 0, "when", "kind"), {"in": ["a", {"b": 1}]}),
     "rules[0].when.kind.in[1]: condition values must be strings, numbers, booleans or null"),
    (_set(("rules", 0, "points", "per"), "hours per week"), "rules[0].points.per: 'hours per week' is not a payload field name"),
    (_set(("rules", 0, "points", "amount"), 0), "rules[0].points.amount: must not be 0"),
    (_set(("rules", 0, "points", "unit"), -2), "rules[0].points.unit: must be greater than 0"),
    (_set(("rules", 0, "points", "whole_units"), "yes"), "rules[0].points.whole_units: must be true or false"),
    (_set(("rules", 0, "points", "max_per_event"), 0), "rules[0].points.max_per_event: must be greater than 0"),
    (_set(("rules", 1, "points"), {"fixed": "two"}), "rules[1].points.fixed: must be a number"),
    (_with_events(_set(("rules", 0, "subject_field"), "attended")),
     "rules[0].subject_field: payload field 'attended' is boolean, expected integer or string"),
    (_with_events(_set(("rules", 1, "when", "attended"), {"eq": "yes"})),
     "rules[1].when.attended.eq: 'yes' can never equal payload field 'attended' of type boolean"),
    (_with_events(_set(("rules", 0, "when", "households"), {"in": [1, "two"]})),
     "rules[0].when.households.in: 'two' can never equal payload field 'households' of type integer"),
    (_set(("consequences", "period"), "month"), "consequences.period: must be one of quarter, year"),
    (_set(("consequences", "award_priority"), {"min_level": 9}),
     "consequences.award_priority.min_level: must be a star level"),
    (_set(("consequences", "award_priority"), {"level": 4}), "consequences.award_priority.level: unknown key"),
    (_delete(("subsidy", "base")), "subsidy.base: is required"),
    (_set(("subsidy", "base"), -1), "subsidy.base: must not be negative"),
    (_set(("subsidy", "factors"), [1, 2]), "subsidy.factors: must be a mapping from star level (0-5) to factor"),
    (_set(("subsidy", "factors", 0), -0.1), "subsidy.factors.0: must not be negative"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_validation_names_the_offending_key(spec, change, message):
    change(spec)
    with pytest.raises(ValueError) as caught:
        load_rulebook(spec)
    assert str(caught.value).startswith(message), str(caught.value)


def test_declared_events_accept_valid_rules(spec):
    _declare_events(spec)
    book = load_rulebook(spec)
    assert book.events["members.activity_recorded"]["hours"] == "decimal"


def test_single_rollup_weight_applies_to_every_period(book):
    weights = book.subjects["branch"].rollup.weights
    assert weights == {"month": Decimal("0.5"), "quarter": Decimal("0.5"), "year": Decimal("0.5")}


def _book(spec, version, effective_from):
    spec = dict(spec, version=version, effective_from=effective_from)
    return load_rulebook(spec)


def test_rulebook_for_picks_latest_effective_on_or_before(spec):
    books = [_book(spec, "2027", "2027-01-01"), _book(spec, "2026", "2026-01-01"),
             _book(spec, "2026-H2", "2026-07-01")]
    assert rulebook_for(date(2026, 1, 1), books).version == "2026"
    assert rulebook_for(date(2026, 6, 30), books).version == "2026"
    assert rulebook_for(date(2026, 7, 1), books).version == "2026-H2"
    assert rulebook_for("2026-12-31", books).version == "2026-H2"
    assert rulebook_for(date(2027, 1, 1), books).version == "2027"
    with pytest.raises(ValueError, match="no rulebook in force on 2025-12-31"):
        rulebook_for(date(2025, 12, 31), books)
    with pytest.raises(ValueError, match="both effective from 2026-01-01"):
        rulebook_for(date(2026, 3, 1), books + [_book(spec, "dup", "2026-01-01")])


def test_blank_sections_mean_their_defaults(spec):
    """A key with nothing after it (null) is the same as leaving it out."""
    spec["events"] = None
    spec["subjects"]["committee"]["items"] = None
    spec["subjects"]["member"]["items"]["pairing"]["categories"] = None
    spec["subjects"]["member"]["items"]["volunteer"]["monthly_cap"] = None
    spec["subjects"]["member"]["model_star"]["min_items"] = None
    spec["subjects"]["branch"]["rollup"] = None
    spec["rules"][0]["when"] = None
    spec["rules"][0]["points"]["max_per_event"] = None
    spec["consequences"] = {"award_priority": None, "unqualified_review": None}
    spec["subsidy"] = None
    spec["rules"] = spec["rules"][:2] + spec["rules"][3:]  # the pairing rule now needs no category
    book = load_rulebook(spec)
    assert book.events == {} and book.items_of("committee") == () and book.subsidy is None
    assert book.item("pairing").common and book.item("volunteer").monthly_cap is None
    assert book.subjects["member"].model_star.min_points == {} and book.subjects["branch"].rollup is None
    assert book.rules[0].conditions == () and book.rules[0].points.max_per_event is None
    assert (book.consequences.award_min_level, book.consequences.review_max_level) == (4, 1)


def test_loaded_values_and_defaults(spec):
    spec["subjects"]["member"].pop("name", None)
    spec["subjects"]["member"]["items"]["volunteer"]["description"] = "每小时 1 分"
    spec["rules"][0]["when"]["hours"] = {"gte": 0.5, "lte": "8"}
    spec["rules"][0]["when"]["occurred_on"] = date(2026, 3, 1)
    spec["rules"][0]["subject_field"] = "volunteer_id"
    spec["subsidy"]["factors"] = {str(level): factor for level, factor in spec["subsidy"]["factors"].items()}
    del spec["consequences"]
    book = load_rulebook(spec)
    member = book.subject("member")
    assert member.name == "vanguard" and member.thresholds.for_period("quarter")[0] == Decimal(10)
    assert book.item("volunteer").description == "每小时 1 分"
    rule = book.rules[0]
    assert (rule.subject_kind, rule.subject_field) == ("member", "volunteer_id")
    assert {(c.field, c.op): c.value for c in rule.conditions} == {
        ("kind", "eq"): "volunteer_service", ("hours", "gte"): Decimal("0.5"), ("hours", "lte"): Decimal(8),
        ("occurred_on", "eq"): "2026-03-01"}
    assert rule.points.quantum == Decimal("0.5") and rule.points.unit == Decimal(1)
    assert book.rules[1].subject_field == "member_id" and book.rules[5].subject_kind == "branch"
    assert book.rules[5].subject_field == "branch_id"
    assert book.subsidy.factors[5] == Decimal("1.2") and sorted(book.subsidy.factors) == [0, 1, 2, 3, 4, 5]
    assert book.consequences == type(book.consequences)()
    weights = book.subjects["committee"].rollup.weights
    assert weights == {"month": Decimal(10), "quarter": Decimal(30), "year": Decimal(120)}


def test_file_problems_name_the_file(tmp_path):
    (tmp_path / "stars-list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^stars-list\.yaml: \(top level\): must be a mapping$"):
        load_rulebook(tmp_path / "stars-list.yaml")
    (tmp_path / "stars-broken.yaml").write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^stars-broken\.yaml: not valid YAML"):
        load_rulebook(tmp_path / "stars-broken.yaml")
    with pytest.raises(TypeError):
        load_rulebook(42)


def test_load_rulebooks_refuses_two_books_from_the_same_day(tmp_path, spec):
    for name in ("stars-a.yaml", "stars-b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="rulebooks test-1 and test-1 are both effective from 2026-01-01"):
        load_rulebooks(tmp_path)
