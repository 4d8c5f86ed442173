"""The time-limit scan on a real session (no broker), on PostgreSQL and SQLite, moved through the
2026 National Day week by the moment it is given: warnings, breaches, escalation by time, the
paused clock and automatic closing."""
import pytest

from services.tickets import scheduler
from tickets_county import MEMBER, VILLAGE, at, build


@pytest.fixture
def county(db_url_factory):
    return build(db_url_factory())


def scan(county, now):
    with county.tx() as session:
        return scheduler.scan(session, county.settings, now)


def test_warning_then_breach_then_escalation_by_time(county):
    ticket = county.proxy(at(2026, 9, 29))              # pension_check: 3 working days, due Oct 9
    county.act(ticket, "accept", at(2026, 9, 29, 10))
    assert scan(county, at(2026, 9, 30)) == {"warnings": 0, "breaches": 0, "escalations": 0, "closed": 0}
    assert scan(county, at(2026, 10, 5))["warnings"] == 0           # holidays: 2 days still left
    assert scan(county, at(2026, 10, 8))["warnings"] == 1           # 1 working day left
    assert scan(county, at(2026, 10, 8, 15))["warnings"] == 0       # once per due date
    assert scan(county, at(2026, 10, 9, 23, 50))["breaches"] == 0   # the due day is not over
    found = scan(county, at(2026, 10, 10, 8))                        # the make-up Saturday
    assert found == {"warnings": 0, "breaches": 1, "escalations": 1, "closed": 0}
    warning = county.published("sla_warning")
    assert [(w["due_on"], w["remaining_days"], w["level"]) for w in warning] == [("2026-10-09", 1, "village")]
    breach = county.published("sla_breached")
    assert breach == [{**breach[0], "level": "village", "due_on": "2026-10-09",
                       "escalated_to": "township", "member_id": MEMBER, "branch_id": VILLAGE,
                       "occurred_on": "2026-10-10"}]
    escalated = county.published("ticket_escalated")[-1]
    assert (escalated["reason"], escalated["level"], escalated["due_on"]) == ("time_limit", "township", "2026-10-14")
    now = county.detail(ticket)
    assert (now["level"], now["status"], now["service_point_id"]) == ("township", "open", county.centre["id"])
    assert now["ever_breached"] and not now["breached"]
    assert [h["action"] for h in now["history"]][-3:] == ["warn", "breach", "escalate"]
    assert {h["by"] for h in now["history"][-3:]} == {"scheduler"}
    assert scan(county, at(2026, 10, 10, 9))["breaches"] == 0        # breached once per level


def test_at_the_city_a_breach_is_recorded_and_the_ticket_stays(county):
    ticket = county.open(at(2026, 9, 29), "legal_aid")                 # city, 7 working days
    assert county.detail(ticket)["due_on"] == "2026-10-14"          # Oct 10 is a working Saturday
    assert scan(county, at(2026, 10, 14, 20))["breaches"] == 0
    assert scan(county, at(2026, 10, 15))["breaches"] == 1
    now = county.detail(ticket)
    assert (now["level"], now["breached"], now["status"]) == ("city", True, "open")
    assert county.published("sla_breached")[-1]["escalated_to"] is None
    assert scan(county, at(2026, 10, 20))["breaches"] == 0
    resolved = county.act(ticket, "accept", at(2026, 10, 20))
    resolved = county.act(ticket, "resolve", at(2026, 10, 20), outcome="已受理援助")
    assert county.published("ticket_resolved")[-1]["on_time"] is False


def test_a_waiting_ticket_is_never_breached(county):
    ticket = county.open(at(2026, 9, 29))
    county.act(ticket, "accept", at(2026, 9, 29))
    county.act(ticket, "wait", at(2026, 9, 30), waiting_on="department")
    assert scan(county, at(2026, 10, 12)) == {"warnings": 0, "breaches": 0, "escalations": 0, "closed": 0}
    resumed = county.act(ticket, "resume", at(2026, 10, 12))        # Oct 8, 9, 10, 12 paused
    assert resumed["due_on"] == "2026-10-14" and resumed["paused_days"] == 4
    assert scan(county, at(2026, 10, 13))["warnings"] == 1
    assert scan(county, at(2026, 10, 15))["breaches"] == 1


def test_without_escalation_by_time_the_breach_stays_at_its_level(db_url_factory):
    county = build(db_url_factory(), rules={"time_limits": {"escalate_on_breach": False,
                                                            "warn_before_days": 0}})
    ticket = county.open(at(2026, 9, 29))
    assert scan(county, at(2026, 10, 8))["warnings"] == 0
    assert scan(county, at(2026, 10, 9))["warnings"] == 1
    assert scan(county, at(2026, 10, 10)) == {"warnings": 0, "breaches": 1, "escalations": 0, "closed": 0}
    assert county.detail(ticket)["level"] == "village"


def test_resolved_tickets_close_by_themselves_after_the_configured_days(county):
    ticket = county.open(at(2026, 10, 8))
    county.act(ticket, "accept", at(2026, 10, 8))
    county.act(ticket, "resolve", at(2026, 10, 9), outcome="办结")
    assert scan(county, at(2026, 10, 15))["closed"] == 0
    assert scan(county, at(2026, 10, 16))["closed"] == 1
    now = county.detail(ticket)
    assert now["status"] == "closed" and now["history"][-1]["by"] == "scheduler"
    assert county.published("ticket_closed") == [{**county.published("ticket_closed")[0],
                                                  "automatic": True, "occurred_on": "2026-10-16"}]
    assert county.act(ticket, "reopen", at(2026, 10, 20), reason="没办好")["status"] == "open"
