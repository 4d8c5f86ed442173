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


def home_unit(held_post=None, registered=None, reserve=None, wealth_leader=None, last_post=None,
              member_branch=None):
    """The organisation unit a cadre belongs to, for who may act on the profile (``shared.scope``):
    the unit of the post held now, else the unit the profile was registered under, else the
    reserve entry's village (or township), else the wealth-leader entry's village, else the
    unit of the latest post, else the member's branch. None: the county keeps the profile."""
    for unit_id in (held_post, registered, reserve, wealth_leader, last_post, member_branch):
        if unit_id is not None:
            return unit_id
    return None
