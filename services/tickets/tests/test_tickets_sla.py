"""Time limits across the 2026 National Day week: due dates, warnings, breaches and the paused
clock (pure)."""
from datetime import date as D

from services.tickets import sla
from services.tickets.workdays import WorkCalendar

CAL = WorkCalendar()


def test_due_date_and_what_is_left():
    due = sla.due_on(CAL, D(2026, 9, 29), 3)
    assert due == D(2026, 10, 9)
    assert sla.remaining_days(CAL, D(2026, 9, 29), due) == 3
    assert sla.remaining_days(CAL, D(2026, 10, 3), due) == 2        # holidays do not count
    assert sla.remaining_days(CAL, D(2026, 10, 9), due) == 0
    assert sla.remaining_days(CAL, D(2026, 10, 12), due) == -2      # Oct 10 and Oct 12 late


def test_warning_once_per_due_date_then_breach_after_the_due_day():
    due = D(2026, 10, 9)
    assert not sla.needs_warning(CAL, D(2026, 9, 30), due, 1, None)  # 2 left
    assert sla.needs_warning(CAL, D(2026, 10, 8), due, 1, None)      # 1 left
    assert not sla.needs_warning(CAL, D(2026, 10, 8), due, 1, due)   # already warned
    assert sla.needs_warning(CAL, D(2026, 10, 9), due, 0, None)      # last day
    assert not sla.is_breached(D(2026, 10, 9), due)
    assert sla.is_breached(D(2026, 10, 10), due)                     # the make-up Saturday
    assert not sla.needs_warning(CAL, D(2026, 10, 10), due, 1, None)  # breached, not warned
    assert sla.look_ahead(CAL, D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_the_clock_pauses_while_waiting():
    # received Sep 29 (due Oct 9), on hold Sep 30, resumed Oct 9: Oct 8 and Oct 9 do not count
    due, days = sla.due_after_pause(CAL, D(2026, 10, 9), D(2026, 9, 30), D(2026, 10, 9))
    assert days == 2 and due == D(2026, 10, 12)
    assert sla.due_after_pause(CAL, D(2026, 10, 9), D(2026, 9, 30), D(2026, 9, 30)) == (D(2026, 10, 9), 0)
    # a pause over the holidays only costs working days
    assert sla.paused_days(CAL, D(2026, 9, 30), D(2026, 10, 7)) == 0
    assert sla.working_days_taken(CAL, D(2026, 9, 29), D(2026, 10, 12), 2) == 3
    assert sla.working_days_taken(CAL, D(2026, 10, 12), D(2026, 10, 12), 0) == 0
    assert sla.working_days_taken(CAL, D(2026, 9, 29), D(2026, 9, 30), 5) == 0
