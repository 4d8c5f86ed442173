"""What the talent service asks other services, each with a deadline and a clear answer when
they do not answer: the stars service for members' current star levels (a shortlist), the
members service for a member's record (a profile). Never called inside a write RPC."""
import logging
from datetime import date

from nameko.exceptions import RemoteError, RpcTimeout, UnknownService

from services.talent import settings as settings_module
from services.talent.shortlist import Answer
from shared.bus.rpc import BoundedRpc
from shared.errors import NotFound

log = logging.getLogger(__name__)
UNANSWERED = (RpcTimeout, UnknownService, RemoteError, OSError)


class TalentRpc(BoundedRpc):
    """``BoundedRpc`` whose deadline is the talent setting ``<service>_timeout_seconds``."""

    def setup(self):
        super().setup()
        self.timeout = getattr(settings_module.load(self.container.config),
                               f"{self.target_service}_timeout_seconds")


def period_of(day: date, star_period: str) -> str:
    """The stars period key containing ``day``: ``2026-Q4`` or ``2026``."""
    if star_period == "year":
        return str(day.year)
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def star_levels(stars, member_ids, period: str) -> Answer:
    """Each member's current Vanguard Star level for ``period`` (the official level once the
    period is closed, else the live one). A member the stars service does not know maps to None.
    The first call that gets no answer stops the asking: the answer is then unavailable, with
    the reason."""
    levels = {}
    for member_id in member_ids:
        try:
            found = stars.score("member", member_id, period)
        except NotFound:
            levels[member_id] = None
            continue
        except UNANSWERED as exc:
            reason = _reason("stars", exc)
            log.warning("shortlist without star levels: %s", reason)
            return Answer(available=False, period=period, reason=reason)
        official = found.get("official")
        levels[member_id] = official["level"] if official else found["level"]
    return Answer(available=True, period=period, levels=levels)


def member_record(members, member_id) -> dict:
    """The members service's record of a member, or why there is none."""
    try:
        return {"available": True, "record": members.get_member(member_id), "reason": None}
    except NotFound:
        return {"available": True, "record": None,
                "reason": f"the members service has no member {member_id}"}
    except UNANSWERED as exc:
        return {"available": False, "record": None, "reason": _reason("members", exc)}


def _reason(service, exc) -> str:
    if isinstance(exc, RpcTimeout):
        return str(exc) or f"{service} gave no answer in time"
    if isinstance(exc, UnknownService):
        return f"the {service} service is not running (no one serves its RPC queue)"
    return f"{service} failed to answer: {type(exc).__name__}: {exc}"
