"""The ticket's state machine: which action is allowed from which status, and why not.

    open -> accepted -> in_progress -> waiting (clock paused) -> in_progress -> resolved -> closed
    resolved / closed -> open again (reopen, within the window after resolution)
    escalate / reassign: back to open at the next level / another service point (not while waiting)
    rate: once per resolution, when resolved or closed

``decide(action, facts)`` returns the status after the action or raises ``Refused`` with the
reason a person can read. Pure: the caller supplies the facts (status, level, today...).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

STATUSES = ("open", "accepted", "in_progress", "waiting", "resolved", "closed")
ACTIVE = ("open", "accepted", "in_progress")           # the time limit runs
UNSETTLED = ACTIVE + ("waiting",)
SETTLED = ("resolved", "closed")
LEVELS = ("village", "township", "city")
ACTIONS = ("accept", "start", "wait", "resume", "resolve", "close", "reopen", "escalate",
           "reassign", "rate")

# action -> {status it may start from: status it leads to}
ALLOWED = {
    "accept": {"open": "accepted"},
    "start": {"accepted": "in_progress"},
    "wait": {"accepted": "waiting", "in_progress": "waiting"},
    "resume": {"waiting": "in_progress"},
    "resolve": {"accepted": "resolved", "in_progress": "resolved"},
    "close": {"resolved": "closed"},
    "reopen": {"resolved": "open", "closed": "open"},
    "escalate": {"open": "open", "accepted": "open", "in_progress": "open"},
    "reassign": {"open": "open", "accepted": "open", "in_progress": "open"},
    "rate": {"resolved": "resolved", "closed": "closed"},
}

_HINTS = {
    ("resolve", "open"): "accept it first",
    ("start", "open"): "accept it first",
    ("wait", "open"): "accept it first",
    ("resolve", "waiting"): "resume it first",
    ("escalate", "waiting"): "resume it first (the clock is paused)",
    ("reassign", "waiting"): "resume it first (the clock is paused)",
    ("close", "open"): "resolve it first",
    ("close", "accepted"): "resolve it first",
    ("close", "in_progress"): "resolve it first",
    ("close", "waiting"): "resume and resolve it first",
    ("rate", "open"): "only a resolved outcome can be rated",
    ("rate", "accepted"): "only a resolved outcome can be rated",
    ("rate", "in_progress"): "only a resolved outcome can be rated",
    ("rate", "waiting"): "only a resolved outcome can be rated",
    ("reopen", "open"): "only a resolved or closed ticket can be reopened",
    ("reopen", "accepted"): "only a resolved or closed ticket can be reopened",
    ("reopen", "in_progress"): "only a resolved or closed ticket can be reopened",
    ("reopen", "waiting"): "only a resolved or closed ticket can be reopened",
}


class Refused(Exception):
    """An action the current status (or the facts) does not allow; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Facts:
    status: str
    level: str = "village"
    rated: bool = False
    resolved_on: date | None = None
    today: date | None = None
    reopen_window_days: int = 15


def next_level(level: str) -> str | None:
    """The level above ``level`` (None above the city)."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def reopen_deadline(resolved_on: date, window_days: int) -> date:
    """The last day a ticket resolved on ``resolved_on`` may be reopened."""
    return resolved_on + timedelta(days=window_days)


def decide(action: str, facts: Facts) -> str:
    """The status after ``action``; ``Refused`` (with the reason) when it is not allowed."""
    if action not in ALLOWED:
        raise ValueError(f"unknown action {action!r}")
    if facts.status not in STATUSES:
        raise ValueError(f"unknown status {facts.status!r}")
    after = ALLOWED[action].get(facts.status)
    if after is None:
        reason = f"cannot {action} a ticket that is {facts.status.replace('_', ' ')}"
        hint = _HINTS.get((action, facts.status))
        raise Refused(f"{reason}: {hint}" if hint else reason)
    if action == "escalate" and next_level(facts.level) is None:
        raise Refused("cannot escalate: the city platform is the highest level")
    if action == "rate" and facts.rated:
        raise Refused("cannot rate: this outcome was already rated")
    if action == "reopen":
        if facts.resolved_on is None or facts.today is None:
            raise ValueError("reopen needs resolved_on and today")
        deadline = reopen_deadline(facts.resolved_on, facts.reopen_window_days)
        if facts.today > deadline:
            raise Refused(f"cannot reopen: the window of {facts.reopen_window_days} days after "
                          f"the resolution on {facts.resolved_on} ended on {deadline}")
    return after
