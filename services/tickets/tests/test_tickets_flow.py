"""Tickets on a real session (no broker), on PostgreSQL and SQLite: routing, consent for proxy
tickets, every status change with its history, refusals that store nothing, the paused clock,
escalation and reassignment, reopening and rating."""
from datetime import date

import pytest
from sqlalchemy import func, select

from services.tickets import lifecycle, schemas, ticket_flow
from services.tickets.models import Ticket, TicketChange
from shared.errors import Conflict, InvalidInput, NotFound
from tickets_county import MEMBER, TOWN, VILLAGE, at, build


@pytest.fixture
def county(db_url_factory):
    return build(db_url_factory())


def test_every_action_of_the_machine_has_its_effect():
    assert set(ticket_flow.ACTIONS) == set(lifecycle.ACTIONS)


def counts(county):
    with county.store.reading() as session:
        return (session.scalar(select(func.count()).select_from(Ticket)),
                session.scalar(select(func.count()).select_from(TicketChange)),
                len(county.published()))


def test_routing_to_the_lowest_level_that_can_settle(county):
    now = at(2026, 9, 29)
    village = county.open(now, "pension_check")
    assert (village["level"], village["service_point_id"]) == ("village", county.station["id"])
    assert village["branch_id"] == VILLAGE and village["township_id"] == TOWN
    township = county.open(now, "minimum_living")
    assert (township["level"], township["service_point_id"]) == ("township", county.centre["id"])
    assert township["opened_point_id"] == county.station["id"]
    city = county.open(now, "legal_aid")
    assert (city["level"], city["service_point_id"]) == ("city", county.city["id"])
    at_centre = county.open(now, "certificate", station=county.centre)
    assert (at_centre["level"], at_centre["service_point_id"]) == ("township", county.centre["id"])
    assert at_centre["branch_id"] is None
    far = county.open(now, "minimum_living", station=county.far_station)
    assert far["service_point_id"] == county.other_centre["id"]
    opened = county.published("ticket_opened")
    assert [(e["level"], e["service_point_id"]) for e in opened] == [
        ("village", county.station["id"]), ("township", county.centre["id"]),
        ("city", county.city["id"]), ("township", county.centre["id"]),
        ("township", county.other_centre["id"])]
    assert opened[0]["due_on"] == "2026-10-09"      # 3 working days over National Day


def test_a_proxy_ticket_records_the_villagers_consent(county):
    now = at(2026, 9, 29)
    ticket = county.proxy(now, consent_on=date(2026, 9, 28))
    assert ticket["agent_id"] == county.member_agent["id"] and ticket["channel"] == "agent"
    assert ticket["consent"] == {"method": "signature", "given_on": "2026-09-28",
                                 "form_reference": "代办委托书 2026-0001"}
    event = county.published("ticket_opened")[-1]
    assert event["proxied"] is True and event["member_id"] == MEMBER
    plain = county.proxy(now, agent=county.plain_agent)
    assert county.published("ticket_opened")[-1]["member_id"] is None and plain["agent_id"]


def test_consent_refusals_name_the_field_and_store_nothing(county):
    now = at(2026, 9, 29)
    before = counts(county)
    payload = {"service_point_id": county.station["id"], "matter_code": "pension_check",
               "requester_name": "刘大爷", "by": "x", "agent_id": county.member_agent["id"]}
    with pytest.raises(InvalidInput) as refused:
        schemas.load(schemas.OpenTicketInput, payload)
    assert "consent" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        schemas.load(schemas.OpenTicketInput, {**payload, "agent_id": None, "consent": {
            "method": "signature", "given_on": "2026-09-29", "form_reference": "x"}})
    assert "consent" in refused.value.errors
    for consent_on, field in ((date(2026, 9, 30), "consent.given_on"),
                              (date(2026, 8, 1), "consent.given_on")):
        with pytest.raises(InvalidInput) as refused:
            county.proxy(now, consent_on=consent_on)
        assert field in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        county.open(now, agent_id=county.member_agent["id"], consent={
            "method": "phone call", "given_on": date(2026, 9, 29), "form_reference": "x"})
    assert "consent.method" in refused.value.errors
    with pytest.raises(Conflict, match="another service point"):
        county.proxy(now, agent=county.other_agent)
    assert counts(county) == before


def test_the_whole_life_of_a_ticket_with_who_and_when(county):
    ticket = county.proxy(at(2026, 9, 29, 9))
    county.act(ticket, "accept", at(2026, 9, 29, 10), by="王建国")
    county.act(ticket, "start", at(2026, 9, 29, 11), by="王建国")
    county.act(ticket, "wait", at(2026, 9, 30, 9), by="王建国", waiting_on="villager",
               note="缺社保卡复印件")
    resumed = county.act(ticket, "resume", at(2026, 10, 9, 9), by="王建国")
    assert resumed["due_on"] == "2026-10-12" and resumed["paused_days"] == 2
    resolved = county.act(ticket, "resolve", at(2026, 10, 12, 16), by="王建国", outcome="认证完成")
    assert resolved["working_days"] == 3 and resolved["resolved_level"] == "village"
    county.act(ticket, "rate", at(2026, 10, 13), by="刘大爷", rating=5, comment="很满意")
    closed = county.act(ticket, "close", at(2026, 10, 13, 10), by="刘大爷")
    assert closed["status"] == "closed" and closed["rating"] == 5
    history = county.detail(ticket)["history"]
    assert [(h["action"], h["from_status"], h["to_status"], h["by"]) for h in history] == [
        ("open", None, "open", "值班员 赵敏"), ("accept", "open", "accepted", "王建国"),
        ("start", "accepted", "in_progress", "王建国"), ("wait", "in_progress", "waiting", "王建国"),
        ("resume", "waiting", "in_progress", "王建国"), ("resolve", "in_progress", "resolved", "王建国"),
        ("rate", "resolved", "resolved", "刘大爷"), ("close", "resolved", "closed", "刘大爷")]
    assert history[3]["at"] == "2026-09-30T01:00:00Z"
    assert "缺社保卡复印件" in history[3]["note"] and "clock paused" in history[3]["note"]
    resolved_event = county.published("ticket_resolved")[-1]
    assert resolved_event == {**resolved_event, "member_id": MEMBER, "branch_id": VILLAGE,
                              "township_id": TOWN, "category": "rural", "on_time": True,
                              "working_days": 3, "reopened": False, "occurred_on": "2026-10-12"}
    assert county.published("ticket_rated")[-1]["rating"] == 5
    assert county.published("ticket_closed")[-1]["automatic"] is False


@pytest.mark.parametrize("path,action,reason", [
    ((), "resolve", "accept it first"),
    ((("accept", {}),), "close", "resolve it first"),
    ((("accept", {}), ("wait", {"waiting_on": "department"})), "escalate", "resume it first"),
    ((("accept", {}), ("wait", {"waiting_on": "department"})), "resolve", "resume it first"),
    ((("accept", {}), ("resolve", {"outcome": "ok"})), "accept", "cannot accept a ticket that is resolved"),
    ((("accept", {}), ("resolve", {"outcome": "ok"}), ("rate", {"rating": 3})), "rate", "already rated"),
    ((("accept", {}), ("escalate", {"reason": "a"}), ("escalate", {"reason": "b"})), "escalate",
     "highest level"),
])
def test_refused_transitions_say_why_and_store_nothing(county, path, action, reason):
    now = at(2026, 9, 29)
    ticket = county.open(now)
    for step, data in path:
        county.act(ticket, step, now, **data)
    before = counts(county)
    extra = {"outcome": "x", "reason": "x", "rating": 4, "waiting_on": "villager"}
    with pytest.raises(Conflict) as refused:
        county.act(ticket, action, now, **extra)
    assert reason in str(refused.value) and f"ticket {ticket['id']}" in str(refused.value)
    assert counts(county) == before


def test_escalation_village_township_city_by_decision(county):
    now = at(2026, 9, 29)
    ticket = county.open(now)
    up = county.act(ticket, "escalate", at(2026, 9, 30), reason="需要民政所核实")
    assert (up["level"], up["service_point_id"], up["status"]) == ("township", county.centre["id"], "open")
    assert up["received_on"] == "2026-09-30" and up["due_on"] == "2026-10-10"
    top = county.act(ticket, "escalate", at(2026, 10, 8), reason="跨部门")
    assert (top["level"], top["service_point_id"]) == ("city", county.city["id"])
    events = county.published("ticket_escalated")
    assert [(e["from_level"], e["level"], e["reason"]) for e in events] == [
        ("village", "township", "cannot_settle"), ("township", "city", "cannot_settle")]
    assert county.detail(ticket)["escalations"] == 2


def test_reassignment_stays_on_its_level(county):
    now = at(2026, 9, 29)
    ticket = county.open(now)
    county.act(ticket, "accept", now)
    moved = county.act(ticket, "reassign", now, service_point_id=county.other_station["id"],
                       agent_id=county.other_agent["id"])
    assert moved["service_point_id"] == county.other_station["id"] and moved["status"] == "open"
    assert moved["due_on"] == ticket["due_on"]             # the clock runs on
    with pytest.raises(Conflict, match="escalate to go up"):
        county.act(ticket, "reassign", now, service_point_id=county.centre["id"])
    with pytest.raises(Conflict, match="already with service point"):
        county.act(ticket, "reassign", now, service_point_id=county.other_station["id"])
    with pytest.raises(NotFound):
        county.act(ticket, "reassign", now, service_point_id=99999)


def test_reopen_within_the_window_only(county):
    ticket = county.open(at(2026, 10, 8))
    county.act(ticket, "accept", at(2026, 10, 8))
    county.act(ticket, "resolve", at(2026, 10, 9), outcome="已办结")
    county.act(ticket, "rate", at(2026, 10, 9), rating=2)
    again = county.act(ticket, "reopen", at(2026, 10, 20), reason="证明写错了名字", by="刘大爷")
    assert again["status"] == "open" and again["reopen_count"] == 1 and again["rating"] is None
    assert again["resolved_on"] is None and again["due_on"] == "2026-10-23"
    county.act(ticket, "accept", at(2026, 10, 20))
    county.act(ticket, "resolve", at(2026, 10, 21), outcome="已更正")
    assert county.published("ticket_resolved")[-1]["reopened"] is True
    with pytest.raises(Conflict, match="ended on 2026-11-05"):
        county.act(ticket, "reopen", at(2026, 11, 6), reason="again")


def test_unknown_ticket_point_matter_and_closed_point(county):
    with pytest.raises(NotFound):
        county.act({"id": 4242}, "accept", at(2026, 9, 29))
    with pytest.raises(NotFound):
        county.open(at(2026, 9, 29), matter="space_travel")
    with pytest.raises(NotFound):
        county.open(at(2026, 9, 29), station={"id": 4242})
    with county.store.reading() as session:
        with pytest.raises(NotFound):
            ticket_flow.detail(session, 4242)


def test_listing_tickets_by_point_and_status(county):
    now = at(2026, 9, 29)
    first = county.open(now)
    county.open(now, "minimum_living")
    county.act(first, "accept", now)
    with county.store.reading() as session:
        at_station = ticket_flow.list_tickets(session, {"service_point_id": county.station["id"]})
        accepted = ticket_flow.list_tickets(session, {"status": "accepted"})
        page = ticket_flow.list_tickets(session, {"limit": 1})
    assert [t["id"] for t in at_station] == [first["id"]]
    assert [t["id"] for t in accepted] == [first["id"]]
    assert len(page) == 1 and page[0]["id"] != first["id"]
