"""The ticket state machine, exhaustively: every action from every status, allowed or refused
with its reason (pure)."""
from datetime import date

import pytest

from services.tickets import lifecycle
from services.tickets.lifecycle import Facts, Refused, decide

# The machine, written out independently of lifecycle.ALLOWED.
EXPECTED = {
    ("accept", "open"): "accepted",
    ("start", "accepted"): "in_progress",
    ("wait", "accepted"): "waiting", ("wait", "in_progress"): "waiting",
    ("resume", "waiting"): "in_progress",
    ("resolve", "accepted"): "resolved", ("resolve", "in_progress"): "resolved",
    ("close", "resolved"): "closed",
    ("reopen", "resolved"): "open", ("reopen", "closed"): "open",
    ("escalate", "open"): "open", ("escalate", "accepted"): "open", ("escalate", "in_progress"): "open",
    ("reassign", "open"): "open", ("reassign", "accepted"): "open", ("reassign", "in_progress"): "open",
    ("rate", "resolved"): "resolved", ("rate", "closed"): "closed",
}
TODAY = date(2026, 10, 12)
ALL = [(a, s) for a in lifecycle.ACTIONS for s in lifecycle.STATUSES]


def facts(status, **extra):
    return Facts(status=status, level="village", resolved_on=date(2026, 10, 9), today=TODAY, **extra)


def test_the_machine_allows_exactly_the_expected_moves():
    assert len(ALL) == 60
    allowed = {(a, s): after for a, moves in lifecycle.ALLOWED.items() for s, after in moves.items()}
    assert allowed == EXPECTED


@pytest.mark.parametrize("action,status", ALL, ids=[f"{a}-from-{s}" for a, s in ALL])
def test_every_action_from_every_status(action, status):
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(Refused) as refused:
            decide(action, facts(status))
        assert refused.value.reason.startswith(f"cannot {action} a ticket that is "
                                               f"{status.replace('_', ' ')}")
    else:
        assert decide(action, facts(status)) == expected


@pytest.mark.parametrize("action,status,hint", [
    ("resolve", "open", "accept it first"),
    ("resolve", "waiting", "resume it first"),
    ("escalate", "waiting", "the clock is paused"),
    ("close", "in_progress", "resolve it first"),
    ("rate", "open", "only a resolved outcome can be rated"),
    ("reopen", "waiting", "only a resolved or closed ticket can be reopened"),
])
def test_refusals_say_what_to_do_instead(action, status, hint):
    with pytest.raises(Refused) as refused:
        decide(action, facts(status))
    assert hint in refused.value.reason


def test_escalation_stops_at_the_city():
    assert decide("escalate", Facts(status="open", level="township")) == "open"
    with pytest.raises(Refused) as refused:
        decide("escalate", Facts(status="accepted", level="city"))
    assert "highest level" in refused.value.reason
    assert [lifecycle.next_level(level) for level in lifecycle.LEVELS] == ["township", "city", None]


def test_one_rating_per_resolution():
    assert decide("rate", facts("closed")) == "closed"
    with pytest.raises(Refused) as refused:
        decide("rate", facts("closed", rated=True))
    assert "already rated" in refused.value.reason


def test_reopen_only_within_the_window():
    resolved = date(2026, 10, 9)
    last = Facts(status="closed", resolved_on=resolved, today=date(2026, 10, 24), reopen_window_days=15)
    assert decide("reopen", last) == "open"
    late = Facts(status="closed", resolved_on=resolved, today=date(2026, 10, 25), reopen_window_days=15)
    with pytest.raises(Refused) as refused:
        decide("reopen", late)
    assert "ended on 2026-10-24" in refused.value.reason


def test_unknown_actions_and_statuses_are_programming_errors():
    with pytest.raises(ValueError):
        decide("teleport", facts("open"))
    with pytest.raises(ValueError):
        decide("accept", Facts(status="lost"))
