"""Rules of posts and their terms (pure): which unit a role is held in, when a term ends, who
sends a first secretary (第一书记), and what an appointment may not overlap."""
from datetime import date, timedelta

UNIT_KINDS = {
    "township_secretary": ("township_committee", "street_committee"),
    "village_secretary": ("village_branch",),
    "first_secretary": ("village_branch",),
}
SENDERS = ("city", "township")
POST_STANDINGS = ("full_member",)


def unit_problem(role: str, unit_kind: str, dissolved: bool) -> str | None:
    """Why a unit cannot hold ``role`` (None: it can)."""
    if dissolved:
        return "the unit was dissolved"
    if unit_kind not in UNIT_KINDS[role]:
        return f"a {role} is appointed to a {' or '.join(UNIT_KINDS[role])}, not a {unit_kind}"
    return None


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:               # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def default_end(started_on: date, years: int) -> date:
    """The last day of a term of ``years`` starting on ``started_on``."""
    return add_years(started_on, years) - timedelta(days=1)


def sender_of(village_status: str, city_sends_to) -> str:
    """Who sends a village's first secretary: the city for the statuses it covers (weak,
    special), the township for the others."""
    return "city" if village_status in city_sends_to else "township"


def sender_problem(sent_by, village_status: str, city_sends_to) -> str | None:
    expected = sender_of(village_status, city_sends_to)
    if sent_by != expected:
        return (f"a {village_status} village's first secretary is sent by the {expected}"
                f" (first_secretaries.city_sends_to: {', '.join(city_sends_to)})")
    return None


def is_open(started_on: date, ended_on, day: date) -> bool:
    """Held on ``day``: started by then and not left before or on it."""
    return started_on <= day and (ended_on is None or ended_on > day)


def end_problem(started_on: date, ended_on: date) -> str | None:
    if ended_on < started_on:
        return f"must not be before the start of the term ({started_on.isoformat()})"
    return None


def standing_problem(standing: str) -> str | None:
    """Every post here is a Party post: its holder is a full Party member."""
    if standing not in POST_STANDINGS:
        return f"political standing {standing}: a Party secretary must be a full Party member"
    return None
