"""Working days by China's calendar: weekends, public holidays and the make-up working days
(调休上班) the State Council moves around them.

``WorkCalendar(notices)`` asks the ``chinesecalendar`` package, except for the years given in
``notices`` (``config/tickets.yaml`` ``holiday_notices``: a year's notice added before the
library ships it, or a correction), which replace the library's days for that year. A year
neither knows counts Monday to Friday and is logged once: time limits keep running rather than
stop. Pure: no database, no clock.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


class NoticeError(ValueError):
    """A holiday notice in the config is malformed (the message names the year and the day)."""


def _days(entries, where) -> set[date]:
    found = set()
    for entry in entries or ():
        text = str(entry)
        first, _, last = text.partition("..")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise NoticeError(f"{where}: {text!r} is not a date or a range like 2027-02-06..2027-02-13") from None
        if end < start:
            raise NoticeError(f"{where}: {text!r} ends before it starts")
        found |= {start + timedelta(days=n) for n in range((end - start).days + 1)}
    return found


def parse_notices(notices) -> dict[int, tuple[frozenset, frozenset]]:
    """``{year: {holidays: [...], workdays: [...]}}`` as ``{year: (holidays, workdays)}``."""
    parsed = {}
    for year, notice in (notices or {}).items():
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise NoticeError(f"holiday_notices: {year!r} is not a year") from None
        notice = notice or {}
        holidays = _days(notice.get("holidays"), f"holiday_notices.{year}.holidays")
        workdays = _days(notice.get("workdays"), f"holiday_notices.{year}.workdays")
        for day in holidays | workdays:
            if day.year != year:
                raise NoticeError(f"holiday_notices.{year}: {day} is not in {year}")
        both = holidays & workdays
        if both:
            raise NoticeError(f"holiday_notices.{year}: {min(both)} is both a holiday and a workday")
        parsed[year] = (frozenset(holidays), frozenset(workdays))
    return parsed


class WorkCalendar:
    def __init__(self, notices=None):
        self.notices = parse_notices(notices)
        self._cache: dict[date, bool] = {}
        self._unknown_logged: set[int] = set()

    def knows(self, year: int) -> bool:
        """Whether ``year``'s holidays are known (from the config or the library)."""
        if year in self.notices:
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: date) -> bool:
        found = self._cache.get(day)
        if found is None:
            found = self._cache[day] = self._decide(day)
        return found

    def _decide(self, day: date) -> bool:
        notice = self.notices.get(day.year)
        if notice is not None:
            holidays, workdays = notice
            if day in workdays:
                return True
            return day not in holidays and day.weekday() < 5
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._unknown_logged:
                self._unknown_logged.add(day.year)
                log.warning("no holiday notice for %s: counting Monday-Friday; add it to "
                            "config/tickets.yaml holiday_notices", day.year)
            return day.weekday() < 5

    def add(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0):
        the last day of a time limit of ``days`` working days received on ``start``."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def count(self, after: date, through: date) -> int:
        """Working days in (``after``, ``through``]: 0 when ``through`` is not after ``after``."""
        total, day = 0, after
        while day < through:
            day += timedelta(days=1)
            total += self.is_working_day(day)
        return total

    def strictly_between(self, first: date, last: date) -> int:
        """Working days after ``first`` and before ``last`` (both excluded)."""
        return self.count(first, last - timedelta(days=1)) if last > first else 0
