"""Periods of the star rating: "daily action, monthly score, quarterly star" (日有作为、月有得分、季有晋星).

Period keys are strings, and they sort chronologically within one kind:

* month:   ``"2026-11"``  (``month_key``)
* quarter: ``"2026-Q4"``  (``quarter_key``; Q1 = Jan-Mar, Q2 = Apr-Jun, Q3 = Jul-Sep, Q4 = Oct-Dec)
* year:    ``"2026"``     (``year_key``)

Year-end reset (每年年底清零): no period crosses a calendar year, so the ledger is kept per year
(``ledger_year``) and a new year starts every subject at zero; the old year stays archived under its
own keys. Dates are the *local* (China Standard Time, UTC+8, no daylight saving) calendar date on
which the activity happened: use ``local_date`` to turn an envelope's UTC ``occurred_at`` into one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

PERIOD_KINDS = ("month", "quarter", "year")
MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}
CHINA_TZ = timezone(timedelta(hours=8), "CST")

_KEY = re.compile(r"(?P<year>[0-9]{4})(?:-(?:(?P<month>[0-9]{2})|Q(?P<quarter>[1-4])))?")


def as_date(value) -> date:
    """A ``date`` from a ``date`` or an ISO ``YYYY-MM-DD`` string (a ``datetime`` is refused:
    use ``local_date`` for timestamps, so that the time zone is decided on purpose)."""
    if isinstance(value, datetime):
        raise TypeError("expected a date, got a datetime: use local_date() for timestamps")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"expected a date or an ISO date string, got {type(value).__name__}")


def local_date(moment) -> date:
    """The China-local calendar date of a timestamp (``datetime`` or ISO string such as an
    envelope's ``occurred_at``). A naive timestamp is taken as UTC.
    ``local_date("2026-12-31T17:00:00+00:00") == date(2027, 1, 1)``."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime or an ISO timestamp, got {type(moment).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA_TZ).date()


def month_of(day) -> int:
    return as_date(day).month


def quarter_of(day) -> int:
    return (as_date(day).month - 1) // 3 + 1


def year_of(day) -> int:
    return as_date(day).year


def ledger_year(day) -> int:
    """The year whose ledger an entry dated ``day`` belongs to (the ledger resets every 1 January)."""
    return year_of(day)


def month_key(day) -> str:
    day = as_date(day)
    return f"{day.year:04d}-{day.month:02d}"


def quarter_key(day) -> str:
    day = as_date(day)
    return f"{day.year:04d}-Q{quarter_of(day)}"


def year_key(day) -> str:
    return f"{as_date(day).year:04d}"


def period_key(period_kind: str, day) -> str:
    """The key of the ``period_kind`` ("month", "quarter" or "year") period containing ``day``."""
    if period_kind == "month":
        return month_key(day)
    if period_kind == "quarter":
        return quarter_key(day)
    if period_kind == "year":
        return year_key(day)
    raise ValueError(f"unknown period kind {period_kind!r} (expected one of {', '.join(PERIOD_KINDS)})")


@dataclass(frozen=True)
class Period:
    """A parsed period key. ``start`` and ``end`` are inclusive dates."""

    key: str
    kind: str
    year: int
    index: int  # month 1-12, quarter 1-4, 1 for a year

    @property
    def start(self) -> date:
        if self.kind == "month":
            return date(self.year, self.index, 1)
        if self.kind == "quarter":
            return date(self.year, 3 * self.index - 2, 1)
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        last_month = {"month": self.index, "quarter": 3 * self.index, "year": 12}[self.kind]
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def months(self) -> tuple[str, ...]:
        """Keys of the months in this period, in order."""
        first = self.start.month
        return tuple(f"{self.year:04d}-{m:02d}" for m in range(first, first + MONTHS_IN[self.kind]))

    def contains(self, day) -> bool:
        return self.start <= as_date(day) <= self.end


def parse_period(key: str) -> Period:
    """Parse ``"2026-11"``, ``"2026-Q4"`` or ``"2026"``; ValueError for anything else."""
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if not match:
        raise ValueError(f"not a period key: {key!r} (expected 2026-11, 2026-Q4 or 2026)")
    year = int(match["year"])
    if match["month"]:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"not a period key: {key!r} (month out of range)")
        return Period(key, "month", year, month)
    if match["quarter"]:
        return Period(key, "quarter", year, int(match["quarter"]))
    return Period(key, "year", year, 1)


def period_kind_of(key: str) -> str:
    return parse_period(key).kind


def period_bounds(key: str) -> tuple[date, date]:
    """``(first day, last day)`` of the period, both inclusive."""
    period = parse_period(key)
    return period.start, period.end


def months_of(key: str) -> tuple[str, ...]:
    return parse_period(key).months


def in_period(key: str, day) -> bool:
    return parse_period(key).contains(day)
