from datetime import date, datetime, timezone

import pytest

from services.stars import periods as p


@pytest.mark.parametrize("day, month, quarter, year", [
    (date(2026, 1, 1), "2026-01", "2026-Q1", "2026"),
    (date(2026, 3, 31), "2026-03", "2026-Q1", "2026"),
    (date(2026, 4, 1), "2026-04", "2026-Q2", "2026"),
    (date(2026, 6, 30), "2026-06", "2026-Q2", "2026"),
    (date(2026, 7, 1), "2026-07", "2026-Q3", "2026"),
    (date(2026, 9, 30), "2026-09", "2026-Q3", "2026"),
    (date(2026, 10, 1), "2026-10", "2026-Q4", "2026"),
    (date(2026, 11, 26), "2026-11", "2026-Q4", "2026"),
    (date(2026, 12, 31), "2026-12", "2026-Q4", "2026"),
    (date(2027, 1, 1), "2027-01", "2027-Q1", "2027"),
])
def test_keys_at_month_quarter_and_year_edges(day, month, quarter, year):
    assert p.month_key(day) == month
    assert p.quarter_key(day) == quarter
    assert p.year_key(day) == year
    assert p.period_key("month", day) == month
    assert p.period_key("quarter", day) == quarter
    assert p.period_key("year", day) == year


def test_iso_strings_are_accepted_and_datetimes_refused():
    assert p.month_key("2026-02-28") == "2026-02"
    assert p.quarter_of("2026-05-01") == 2
    assert p.month_of(date(2026, 8, 1)) == 8 and p.year_of("2026-08-01") == 2026
    with pytest.raises(TypeError):
        p.month_key(datetime(2026, 1, 1, 12))
    with pytest.raises(ValueError):
        p.period_key("week", date(2026, 1, 1))


def test_parse_and_bounds():
    assert p.period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert p.period_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert p.period_bounds("2026-Q4") == (date(2026, 10, 1), date(2026, 12, 31))
    assert p.period_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert p.period_bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert p.months_of("2026-Q2") == ("2026-04", "2026-05", "2026-06")
    assert len(p.months_of("2026")) == 12 and p.months_of("2026-11") == ("2026-11",)
    assert p.period_kind_of("2026-Q3") == "quarter"
    for bad in ("2026-13", "2026-Q5", "26-01", "2026-1", "", None):
        with pytest.raises(ValueError):
            p.parse_period(bad)


def test_period_membership_and_year_end_reset():
    assert p.in_period("2026-Q4", date(2026, 12, 31))
    assert not p.in_period("2026-Q4", date(2027, 1, 1))
    assert not p.in_period("2026", date(2027, 1, 1))
    assert p.in_period("2027-Q1", date(2027, 1, 1))
    assert not p.in_period("2026-Q3", date(2026, 10, 1))
    assert p.ledger_year(date(2026, 12, 31)) == 2026
    assert p.ledger_year(date(2027, 1, 1)) == 2027


def test_local_date_uses_china_time():
    assert p.local_date("2026-12-31T15:59:59+00:00") == date(2026, 12, 31)
    assert p.local_date("2026-12-31T16:00:00+00:00") == date(2027, 1, 1)
    assert p.local_date(datetime(2026, 3, 31, 17, 0, tzinfo=timezone.utc)) == date(2026, 4, 1)
    assert p.local_date(datetime(2026, 3, 31, 15, 0)) == date(2026, 3, 31)  # naive = UTC
