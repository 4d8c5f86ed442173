"""Rules of training (pure): the modes of the "field + lecture + interaction" scheme
(现场教学 + 课堂讲授 + 互动交流), hours credited for attendance and the yearly hours report."""
from decimal import Decimal

MODES = ("field", "lecture", "interaction")


def attended_hours(session_hours: Decimal, given) -> Decimal:
    """Hours credited to one attendee: the session's, or fewer when they left early."""
    return session_hours if given is None else min(Decimal(given), session_hours)


def hours_problem(session_hours: Decimal, given) -> str | None:
    if given is not None and Decimal(given) > session_hours:
        return f"must not exceed the session's {session_hours} hours"
    if given is not None and Decimal(given) <= 0:
        return "must be more than 0"
    return None


def yearly_rows(rows, required: Decimal) -> list[dict]:
    """Per cadre: hours and sessions in the year, and the shortfall against ``required``.
    ``rows``: dicts with cadre_id, name, hours, sessions (cadres without attendance have 0)."""
    report = []
    for row in sorted(rows, key=lambda r: (Decimal(r["hours"]), r["cadre_id"])):
        hours = Decimal(row["hours"])
        shortfall = max(Decimal(0), required - hours)
        report.append({**row, "hours": hours, "required": required, "shortfall": shortfall,
                       "met": shortfall == 0})
    return report
