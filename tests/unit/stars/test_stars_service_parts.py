"""Pure parts of the stars service around the rules: roll-ups from database aggregates, the
rulebook folder and its bindings, dates of facts, score text and RPC input checks."""
import random
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from services.stars import books, figures, levels, reports
from services.stars.rulebook import load_rulebook
from shared.errors import InvalidInput

D = Decimal


@pytest.mark.parametrize("aggregate", ["mean", "sum", "share_at_least"])
def test_rollup_from_database_aggregates_agrees_with_children_scores(spec, aggregate):
    """The recompute builds ``Children`` from SQL aggregates (count, sum, count per level); the
    closing builds it from scores: both must give the same total."""
    spec["subjects"]["branch"]["rollup"] = {"from": "member", "aggregate": aggregate, "weight": 0.5,
                                            **({"min_level": 2} if aggregate == "share_at_least" else {})}
    book = load_rulebook(spec)
    randomly = random.Random(7)
    for _ in range(200):
        scores = {n: D(randomly.randint(-30, 700)) / 10 for n in range(randomly.randint(0, 12))}
        vetoed = {n for n in scores if randomly.random() < 0.2}
        for period_kind in ("month", "quarter", "year"):
            at_level = {}
            for n, score in scores.items():
                level = levels.level_for(book, "member", period_kind, score, n in vetoed)
                at_level[level] = at_level.get(level, 0) + 1
            expected = levels.rollup(book, "branch", period_kind, D("1.5"),
                                     levels.children_of(book, "member", period_kind, scores, vetoed))
            aggregates = levels.Children(len(scores), sum(scores.values(), D(0)), at_level)
            assert levels.rollup(book, "branch", period_kind, D("1.5"), aggregates) == expected


def test_rollup_without_children_keeps_the_own_score(book):
    assert levels.rollup(book, "branch", "month", D("2.5"), levels.NO_CHILDREN) == D("2.5")


def test_bindings_are_every_scored_event_plus_revocations_and_the_directory():
    scored = {(rule.source, rule.type) for book in books.load({}) for rule in book.rules}
    found = books.bindings({})
    assert found == sorted(found) and len(found) == len(set(found))
    assert set(found) == scored | {("members", "activity_revoked"), ("members", "member_left"),
                                   ("members", "member_registered"), ("members", "member_transferred"),
                                   ("members", "org_unit_changed"), ("members", "org_unit_created")}
    assert {("members", "activity_recorded"), ("members", "development_step_recorded"),
            ("stars", "sanction_recorded"), ("tickets", "ticket_resolved"),
            ("tickets", "sla_breached")} <= scored


@pytest.mark.parametrize("value", [0, -1, 257, True, "8"])
def test_partitions_must_be_a_sensible_whole_number(value):
    with pytest.raises(ValueError, match="stars.partitions"):
        books.partitions({"stars": {"partitions": value}})


def test_a_rulebook_folder_from_config_adds_bindings_without_code(tmp_path, spec):
    import yaml
    spec["rules"].append({"id": "x", "source": "tickets", "type": "ticket_resolved",
                          "item": "meeting", "points": {"fixed": 1}})
    (tmp_path / "stars-2026.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    config = {"stars": {"rulebook_dir": str(tmp_path)}}
    assert ("tickets", "ticket_resolved") in books.bindings(config)
    assert [b.version for b in books.load(config)] == ["test-1"]


def test_a_missing_or_empty_rulebook_folder_stops_the_service(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        books.load({"stars": {"rulebook_dir": str(tmp_path / "nowhere")}})
    with pytest.raises(ValueError, match="no stars-"):
        books.load({"stars": {"rulebook_dir": str(tmp_path)}})


def test_the_date_of_a_fact_is_the_payload_date_else_the_local_date_of_the_envelope():
    fields = books.DEFAULTS["date_fields"]
    assert books.date_of_fact({"occurred_on": date(2026, 3, 4)}, "2026-05-01T00:00:00+00:00",
                              fields) == date(2026, 3, 4)
    assert books.date_of_fact({"recorded_on": "2026-03-05"}, "2026-05-01T00:00:00+00:00",
                              fields) == date(2026, 3, 5)
    assert books.date_of_fact({"decided_on": "2026-03-06"}, "2026-12-31T17:00:00+00:00",
                              fields) == date(2027, 1, 1)
    moment = datetime(2026, 6, 30, 20, 0, tzinfo=timezone.utc)
    assert books.date_of_fact({"occurred_on": moment}, "", fields) == date(2026, 7, 1)


@pytest.mark.parametrize("value, text", [
    (D(0), "0.00"), (D("13"), "13.00"), (D("0.2"), "0.20"), (D("1.075"), "1.08"),
    (D("-2.50000"), "-2.50"), (D("3.14159"), "3.14"), (D("1.0000"), "1.00")])
def test_scores_are_shown_with_two_decimals(value, text):
    assert figures.shown(value) == text


@pytest.mark.parametrize("call, field", [
    (lambda: reports.subject_kind("cadre"), "subject_kind"),
    (lambda: reports.positive_id(True, "subject_id"), "subject_id"),
    (lambda: reports.period("2026-Q5"), "period"),
    (lambda: reports.period("2026", kinds=("quarter",)), "period"),
    (lambda: reports.year("26"), "year"),
    (lambda: reports.scope("committee", "township", 3), "scope_kind"),
    (lambda: reports.scope("member", "county", 3), "scope_id"),
    (lambda: reports.scope("member", "branch", None), "scope_id"),
    (lambda: reports.count(1001), "n"),
    (lambda: reports.words("  ", "reason"), "reason"),
    (lambda: reports.flag("yes", "early"), "early"),
])
def test_rpc_inputs_are_refused_with_the_field_named(call, field):
    with pytest.raises(InvalidInput) as refused:
        call()
    assert list(refused.value.errors) == [field]


def test_rpc_inputs_that_pass():
    assert reports.year(2026) == "2026" and reports.period("2026-Q4") == "2026-Q4"
    assert reports.scope("member", "county", None) == ("county", None)
    assert reports.scope("branch", "township", 4) == ("township", 4)
    assert reports.plain({"a": D("1.5"), "b": [date(2026, 1, 2)]}) == {"a": "1.50", "b": ["2026-01-02"]}
