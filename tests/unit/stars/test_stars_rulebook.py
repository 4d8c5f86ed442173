from datetime import date
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
    assert book.rules_for("tickets", "ticket_resolved") == ()


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
