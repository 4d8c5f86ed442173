"""Time limits in working days: due dates, the paused clock, warnings and breaches. Pure: the
calendar (``workdays.WorkCalendar``) and the day are passed in.

A level that receives a ticket on day D with a limit of N working days must settle it by the end
of the N-th working day after D (``due_on``). While the ticket waits on the villager or another
department the clock is paused: the day it is put on hold counts, the working days after it up
to and including the day it is resumed do not, and the due date moves by that many working days.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The China-local calendar day of a timestamp (naive timestamps are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(LOCAL).date()


def due_on(calendar, received_on: date, limit_days: int) -> date:
    return calendar.add(received_on, limit_days)


def remaining_days(calendar, today: date, due: date) -> int:
    """Working days left after ``today`` up to ``due`` (negative once overdue)."""
    if today <= due:
        return calendar.count(today, due)
    return -calendar.count(due, today)


def paused_days(calendar, paused_on: date, resumed_on: date) -> int:
    """Working days the clock stood still: after ``paused_on``, up to and including ``resumed_on``."""
    return calendar.count(paused_on, resumed_on)


def due_after_pause(calendar, due: date, paused_on: date, resumed_on: date) -> tuple[date, int]:
    """The due date after a pause from ``paused_on`` to ``resumed_on``, and the days paused."""
    days = paused_days(calendar, paused_on, resumed_on)
    return calendar.add(due, days), days


def is_breached(today: date, due: date) -> bool:
    return today > due


def needs_warning(calendar, today: date, due: date, warn_before: int, warned_for: date | None) -> bool:
    """Whether to warn now: not yet overdue, ``warn_before`` working days or fewer left, and no
    warning sent for this due date yet."""
    if is_breached(today, due) or warned_for == due:
        return False
    return remaining_days(calendar, today, due) <= warn_before


def look_ahead(calendar, today: date, warn_before: int) -> date:
    """The latest due date that may need a warning or a breach today (scan tickets due by then)."""
    return calendar.add(today, warn_before)


def working_days_taken(calendar, opened_on: date, resolved_on: date, paused: int) -> int:
    """Working days from opening to resolution, the paused ones left out (same day: 0)."""
    return max(calendar.count(opened_on, resolved_on) - paused, 0)
