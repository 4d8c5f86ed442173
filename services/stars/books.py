"""The rulebooks in force, read from the configured folder, and what the service listens to.

Settings (the ``stars:`` section of the running config; every key is optional)::

    stars:
      rulebook_dir: config/rulebooks     # relative to the repository root, or absolute
      ranking_top_n: 10                  # places listed in ranking_changed when the top moves
      date_fields: [occurred_on, recorded_on]   # payload fields giving the date of the fact
      partitions: 8                      # township partitions of the event queue

``bindings(config)`` is the ``bindings_from`` of the service's batch subscription: every
``(source, type)`` any rule of any rulebook scores, plus ``members.activity_revoked`` and the
members' directory events. A new event
type from a new service therefore earns credit by a rulebook entry alone (after a restart, which
binds the queue to it). A folder with an invalid rulebook stops the service at start-up with the
rulebook's own error (``file: key.path: reason``).
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from services.stars import periods
from services.stars.rulebook import Rulebook, load_rulebooks, rulebook_for
from shared.config import ROOT

REVOKED = ("members", "activity_revoked")
DEFAULTS = {
    "rulebook_dir": "config/rulebooks",
    # A change of rank is published with the first places when either rank is within them.
    "ranking_top_n": 10,
    # The date of the fact is the first of these payload fields that holds a date; without one it
    # is the China-local date of the envelope's occurred_at.
    "date_fields": ["occurred_on", "recorded_on"],
    # Scored and directory events are split by township into this many queues, each consumed by
    # one process at a time; more partitions than processes lets a new process take a share.
    "partitions": 8,
}
_CACHE: dict = {}


def settings(config) -> dict:
    return {**DEFAULTS, **((config or {}).get("stars") or {})}


def rulebook_dir(config) -> Path:
    folder = Path(settings(config)["rulebook_dir"])
    return folder if folder.is_absolute() else ROOT / folder


def load(config, fresh=False) -> list[Rulebook]:
    """Every rulebook of the configured folder, oldest first (cached per folder and file times)."""
    folder = rulebook_dir(config)
    if not folder.is_dir():
        raise ValueError(f"stars.rulebook_dir: {folder} is not a folder")
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("stars-*.yaml")))
    key = str(folder)
    if fresh or _CACHE.get(key, (None,))[0] != stamp:
        books = load_rulebooks(folder)
        if not books:
            raise ValueError(f"stars.rulebook_dir: no stars-*.yaml rulebook in {folder}")
        _CACHE[key] = (stamp, books)
    return _CACHE[key][1]


DIRECTORY = (("members", "member_registered"), ("members", "member_transferred"),
             ("members", "member_left"), ("members", "org_unit_created"),
             ("members", "org_unit_changed"))


def bindings(config) -> list[tuple[str, str]]:
    """Every event a rule scores, revocations and the directory events."""
    pairs = {(rule.source, rule.type) for book in load(config) for rule in book.rules}
    pairs.add(REVOKED)
    pairs.update(DIRECTORY)
    return sorted(pairs)


def partitions(config) -> int:
    number = settings(config)["partitions"]
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 256:
        raise ValueError("stars.partitions: must be a whole number from 1 to 256")
    return number


def in_force(books, day) -> Rulebook | None:
    """The rulebook in force on ``day``; None before the first one."""
    try:
        return rulebook_for(day, books)
    except ValueError:
        return None


def latest_for_period(books, period_key: str) -> Rulebook | None:
    """The rulebook deciding thresholds of a period: the one in force on its last day."""
    return in_force(books, periods.parse_period(period_key).end)


def date_of_fact(payload, occurred_at, date_fields) -> date:
    for name in date_fields:
        value = payload.get(name)
        if isinstance(value, datetime):
            return periods.local_date(value)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return periods.local_date(occurred_at)
