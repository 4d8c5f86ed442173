"""Working days by China's calendar: the 2026 National Day week with its make-up days, a year's
notice added in the config before the library ships it, and a year nobody knows."""
from datetime import date, timedelta

import pytest

from services.tickets import sla
from services.tickets.workdays import NoticeError, WorkCalendar, parse_notices

D = date
CAL = WorkCalendar()


def test_the_library_knows_2026():
    assert CAL.knows(2026)


@pytest.mark.parametrize("day,working", [
    (D(2026, 9, 20), True),     # Sunday, make-up working day for National Day
    (D(2026, 9, 24), True),     # Thursday
    (D(2026, 9, 25), False),    # Friday, Mid-Autumn Festival
    (D(2026, 9, 26), False),    # weekend
    (D(2026, 9, 28), True),     # Monday
    (D(2026, 10, 1), False), (D(2026, 10, 4), False), (D(2026, 10, 7), False),   # National Day
    (D(2026, 10, 8), True),     # Thursday after the week
    (D(2026, 10, 10), True),    # Saturday, make-up working day
    (D(2026, 10, 11), False),   # Sunday
])
def test_national_day_week_2026(day, working):
    assert CAL.is_working_day(day) is working


def test_time_limits_jump_the_holiday_week_and_land_on_make_up_days():
    assert CAL.add(D(2026, 9, 29), 3) == D(2026, 10, 9)     # Sep 30, Oct 8, Oct 9
    assert CAL.add(D(2026, 9, 30), 3) == D(2026, 10, 10)    # Oct 8, 9 and the Saturday Oct 10
    assert CAL.add(D(2026, 10, 1), 0) == D(2026, 10, 1)
    assert CAL.count(D(2026, 9, 30), D(2026, 10, 12)) == 4  # Oct 8, 9, 10, 12
    assert CAL.count(D(2026, 10, 12), D(2026, 9, 30)) == 0
    assert CAL.strictly_between(D(2026, 9, 30), D(2026, 10, 9)) == 1    # Oct 8
    with pytest.raises(ValueError):
        CAL.add(D(2026, 9, 29), -1)


def test_a_notice_in_the_config_is_used_before_the_library_has_the_year():
    assert not CAL.knows(2031)
    notice = {2031: {"holidays": ["2031-01-01", "2031-01-28..2031-02-03"], "workdays": ["2031-01-26"]}}
    calendar = WorkCalendar(notice)
    assert calendar.knows(2031)
    assert not calendar.is_working_day(D(2031, 1, 1))        # a Wednesday, holiday
    assert calendar.is_working_day(D(2031, 1, 26))           # a Sunday, make-up day
    assert not calendar.is_working_day(D(2031, 1, 30))       # inside the range
    assert calendar.is_working_day(D(2031, 2, 4))            # a Tuesday after it
    assert calendar.add(D(2031, 1, 27), 1) == D(2031, 2, 4)


def test_a_notice_in_the_config_replaces_the_library_year():
    calendar = WorkCalendar({2026: {"holidays": ["2026-10-08"], "workdays": []}})
    assert not calendar.is_working_day(D(2026, 10, 8))
    assert calendar.is_working_day(D(2026, 10, 1))           # no longer a holiday: only the config counts
    assert not calendar.is_working_day(D(2026, 10, 10))      # a plain Saturday now


def test_a_year_nobody_knows_counts_monday_to_friday(caplog):
    calendar = WorkCalendar()
    monday = D(2031, 1, 6)
    assert [calendar.is_working_day(monday + timedelta(days=n)) for n in range(7)] == \
        [True] * 5 + [False] * 2
    assert "no holiday notice for 2031" in caplog.text
    assert caplog.text.count("no holiday notice") == 1


@pytest.mark.parametrize("notices,message", [
    ({2027: {"holidays": ["2027-13-01"]}}, "2027-13-01"),
    ({2027: {"holidays": ["2027-02-10..2027-02-01"]}}, "ends before it starts"),
    ({2027: {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}, "both a holiday and a workday"),
    ({2027: {"workdays": ["2028-01-01"]}}, "is not in 2027"),
    ({"next": {}}, "is not a year"),
])
def test_malformed_notices_are_refused_with_the_day(notices, message):
    with pytest.raises(NoticeError) as refused:
        parse_notices(notices)
    assert message in str(refused.value)


def test_local_day_is_china_time():
    from datetime import datetime, timezone
    assert sla.local_date(datetime(2026, 9, 30, 16, 30, tzinfo=timezone.utc)) == D(2026, 10, 1)
    assert sla.local_date(datetime(2026, 9, 30, 15, 59)) == D(2026, 9, 30)
