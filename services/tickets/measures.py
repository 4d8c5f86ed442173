"""The service network's measures for a period, from plain rows (pure).

For the tickets resolved in the period (their latest resolution):

* ``settled_in_village``: share settled at the village level (小事不出村);
* ``settled_in_township``: share settled without leaving the township, at the village or the
  township level (大事不出乡); ``settled_at_township_level``: at the township level only;
* ``resolve_days_median`` / ``resolve_days_p90``: working days from opening to resolution, paused
  days left out, interpolated like a spreadsheet's PERCENTILE.INC, one decimal;
* ``on_time``: share never past a level's time limit;
* ``satisfaction``: mean rating (1-5, two decimals) of those rated, ``satisfied`` the share of
  ratings 4 or 5, ``rated`` how many were rated.

``opened`` counts the tickets opened in the period. Shares have four decimals; a measure of
nothing is None, never 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FIELDS = ("opened", "resolved", "settled_in_village", "settled_in_township",
          "settled_at_township_level", "resolve_days_median", "resolve_days_p90", "on_time",
          "rated", "satisfaction", "satisfied")


@dataclass(frozen=True)
class Resolved:
    level: str
    working_days: int
    on_time: bool
    rating: int | None


def _quantize(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def share(part: int, whole: int) -> str | None:
    return None if not whole else _quantize(Decimal(part) / Decimal(whole), "0.0001")


def percentile(values, p) -> Decimal | None:
    """PERCENTILE.INC of ``values`` at ``p`` (0-100): linear between the two nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = Decimal(p) / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return Decimal(ordered[low]) + (rank - low) * (Decimal(ordered[high]) - Decimal(ordered[low]))


def summarise(opened: int, resolved: list[Resolved]) -> dict:
    total = len(resolved)
    village = sum(r.level == "village" for r in resolved)
    township = sum(r.level == "township" for r in resolved)
    days = [r.working_days for r in resolved]
    ratings = [r.rating for r in resolved if r.rating is not None]
    median, p90 = percentile(days, 50), percentile(days, 90)
    return {
        "opened": opened,
        "resolved": total,
        "settled_in_village": share(village, total),
        "settled_in_township": share(village + township, total),
        "settled_at_township_level": share(township, total),
        "resolve_days_median": None if median is None else _quantize(median, "0.1"),
        "resolve_days_p90": None if p90 is None else _quantize(p90, "0.1"),
        "on_time": share(sum(r.on_time for r in resolved), total),
        "rated": len(ratings),
        "satisfaction": None if not ratings else _quantize(
            Decimal(sum(ratings)) / Decimal(len(ratings)), "0.01"),
        "satisfied": share(sum(r >= 4 for r in ratings), len(ratings)),
    }
