"""Training rules (pure): hours credited and the yearly report."""
from decimal import Decimal

from services.talent import training_rules


def test_an_attendee_is_credited_the_session_or_fewer_hours():
    assert training_rules.attended_hours(Decimal("4.0"), None) == Decimal("4.0")
    assert training_rules.attended_hours(Decimal("4.0"), Decimal("2.5")) == Decimal("2.5")
    assert "exceed" in training_rules.hours_problem(Decimal("4.0"), Decimal("4.5"))
    assert training_rules.hours_problem(Decimal("4.0"), None) is None


def test_the_yearly_rows_flag_shortfalls_fewest_hours_first():
    rows = training_rules.yearly_rows([
        {"cadre_id": 1, "name": "甲", "hours": Decimal("42.0"), "sessions": 9},
        {"cadre_id": 2, "name": "乙", "hours": Decimal("12.5"), "sessions": 3},
        {"cadre_id": 3, "name": "丙", "hours": Decimal(0), "sessions": 0}], Decimal(40))
    assert [(r["cadre_id"], r["shortfall"], r["met"]) for r in rows] == [
        (3, Decimal(40), False), (2, Decimal("27.5"), False), (1, Decimal(0), True)]
