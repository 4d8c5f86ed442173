"""Moments as stored and as answered: UTC, aware (SQLite hands back naive datetimes)."""
from datetime import datetime, timezone


def aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else aware(moment).astimezone(timezone.utc).isoformat()
