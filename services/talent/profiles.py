"""Rules of a cadre's profile: age, education order and political standing (pure)."""
from datetime import date

from services.talent.settings import EDUCATION_LEVELS

MEMBER_STANDINGS = {"full": "full_member", "probationary": "probationary_member"}
NON_MEMBER_STANDINGS = ("activist", "non_member")


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def education_rank(level: str) -> int:
    """Position of ``level`` in the members service's order, lowest first."""
    return EDUCATION_LEVELS.index(level)


def standing(member_id, member_status, member_active, own_standing) -> str:
    """A cadre's political standing: a linked member's follows the member record as learned
    from the members service (``former_member`` once they left it; ``full_member`` until the
    record is learned, as only a member can be linked); anyone else's is what was registered."""
    if member_id is None:
        return own_standing
    if member_active is False:
        return "former_member"
    return MEMBER_STANDINGS.get(member_status, "full_member")


def standing_problem(member_id, own_standing) -> str | None:
    """Why a registered standing does not fit (None: it does)."""
    if member_id is not None and own_standing is not None:
        return "follows the member record when member_id is given: leave it out"
    if member_id is None and own_standing not in NON_MEMBER_STANDINGS:
        return (f"must be one of {', '.join(NON_MEMBER_STANDINGS)} without a member_id "
                f"(a Party member is linked by member_id)")
    return None
