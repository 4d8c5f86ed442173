"""Scope in the tickets service (``shared.scope``; no broker, PostgreSQL and SQLite): a caller
bound to one unit acts on the tickets, stations and agents of that unit and the units under it,
and is refused (``Forbidden`` naming the unit) elsewhere, before anything is stored; calls from
inside and county-wide callers are not limited. A ticket is the unit's that hosts the service
point where it was opened, wherever escalation or reassignment takes it."""
import inspect

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select

from services.tickets.models import Ticket, TicketChange
from services.tickets.service import TicketsService
from shared.errors import Forbidden, InvalidInput, NotFound
from tickets_county import (CITY, FAR_VILLAGE, OTHER_TOWN, OTHER_VILLAGE, TOWN, VILLAGE, at,
                            build)

NOW = at(2026, 10, 8, 10)
CADRE = {"user": "cadre", "role": "village_cadre", "scope_unit_id": VILLAGE,
         "permissions": ["*.read", "tickets.write"]}
AGENT = {"user": "agent", "role": "proxy_agent", "scope_unit_id": VILLAGE,
         "permissions": ["org.read", "tickets.read", "tickets.write"]}
STAFF = {"user": "staff", "role": "township_staff", "scope_unit_id": TOWN,
         "permissions": ["*.read", "tickets.write"]}
ADMIN = {"user": "admin", "role": "county_admin", "permissions": ["*"]}


@pytest.fixture
def county(db_url_factory):
    url = db_url_factory()
    built = build(url)
    built.url = url
    return built


def service(county, context):
    return worker_factory(TicketsService, store=TicketsService.store.handle(
        county.url, context=context), settings=county.settings, clock=lambda: NOW)


def stored(county):
    with county.store.reading() as session:
        return (session.scalar(select(func.count()).select_from(Ticket)),
                session.scalar(select(func.count()).select_from(TicketChange)))


def opening(point, **extra):
    return {"service_point_id": point["id"], "matter_code": "pension_check",
            "requester_name": "刘大爷", **extra}


def refused(call, unit):
    with pytest.raises(Forbidden, match=f"organisation unit {unit} is outside your scope"):
        call()


def test_a_village_cadre_handles_their_village_tickets_and_no_others(county):
    cadre = service(county, CADRE)
    ticket = cadre.open_ticket(opening(county.station), by="cadre")["id"]
    assert cadre.accept_ticket(ticket, {}, by="cadre")["status"] == "accepted"
    assert cadre.start_ticket(ticket, {}, by="cadre")["status"] == "in_progress"
    assert cadre.hold_ticket(ticket, {"waiting_on": "villager"}, by="cadre")["status"] == "waiting"
    assert cadre.resume_ticket(ticket, {}, by="cadre")["status"] == "in_progress"
    assert cadre.resolve_ticket(ticket, {"outcome": "已认证"}, by="cadre")["status"] == "resolved"
    assert cadre.rate_ticket(ticket, {"rating": 5}, by="cadre")["rating"] == 5
    assert cadre.reopen_ticket(ticket, {"reason": "材料有误"}, by="cadre")["status"] == "open"
    assert cadre.get_ticket(ticket)["id"] == ticket

    elsewhere = county.open(NOW, station=county.other_station)["id"]
    before = stored(county)
    refused(lambda: cadre.open_ticket(opening(county.other_station), by="cadre"), OTHER_VILLAGE)
    for action in ("accept_ticket", "start_ticket", "resume_ticket", "close_ticket"):
        refused(lambda: getattr(cadre, action)(elsewhere, {}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: cadre.hold_ticket(elsewhere, {"waiting_on": "villager"}, by="cadre"),
            OTHER_VILLAGE)
    refused(lambda: cadre.resolve_ticket(elsewhere, {"outcome": "x"}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: cadre.reopen_ticket(elsewhere, {"reason": "x"}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: cadre.escalate_ticket(elsewhere, {"reason": "x"}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: cadre.rate_ticket(elsewhere, {"rating": 1}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: cadre.get_ticket(elsewhere), OTHER_VILLAGE)
    assert stored(county) == before


def test_an_escalated_ticket_stays_its_village_and_the_township_handles_it(county):
    agent, staff = service(county, AGENT), service(county, STAFF)
    ticket = agent.open_ticket(opening(county.station), by="agent")["id"]
    moved = agent.escalate_ticket(ticket, {"reason": "需要镇里审核"}, by="agent")
    assert (moved["level"], moved["service_point_id"]) == ("township", county.centre["id"])
    assert agent.get_ticket(ticket)["level"] == "township"          # still the village's
    assert staff.accept_ticket(ticket, {}, by="staff")["status"] == "accepted"
    assert staff.escalate_ticket(ticket, {"reason": "市级审批"}, by="staff")["level"] == "city"

    other = county.open(NOW, station=county.other_station)["id"]
    at_centre = county.open(NOW, station=county.centre)["id"]
    assert staff.accept_ticket(other, {}, by="staff")["status"] == "accepted"
    assert staff.accept_ticket(at_centre, {}, by="staff")["status"] == "accepted"
    refused(lambda: agent.accept_ticket(at_centre, {}, by="agent"), TOWN)

    far = county.open(NOW, station=county.far_station)["id"]
    refused(lambda: staff.accept_ticket(far, {}, by="staff"), FAR_VILLAGE)
    refused(lambda: staff.escalate_ticket(far, {"reason": "x"}, by="staff"), FAR_VILLAGE)
    assert county.detail({"id": far})["status"] == "open"


def test_a_reassignment_must_cover_the_ticket_and_where_it_goes(county):
    cadre, staff = service(county, CADRE), service(county, STAFF)
    ticket = county.open(NOW)["id"]
    refused(lambda: cadre.reassign_ticket(
        ticket, {"service_point_id": county.other_station["id"]}, by="cadre"), OTHER_VILLAGE)
    refused(lambda: staff.reassign_ticket(
        ticket, {"service_point_id": county.far_station["id"]}, by="staff"), FAR_VILLAGE)
    assert county.detail({"id": ticket})["service_point_id"] == county.station["id"]
    moved = staff.reassign_ticket(ticket, {"service_point_id": county.other_station["id"]},
                                  by="staff")
    assert moved["service_point_id"] == county.other_station["id"]
    assert cadre.reassign_ticket(ticket, {"agent_id": county.plain_agent["id"]},
                                 by="cadre")["agent_id"] == county.plain_agent["id"]


def test_listing_names_a_unit_inside_the_scope_and_gets_its_subtree(county):
    mine = county.open(NOW)["id"]
    neighbours = county.open(NOW, station=county.other_station)["id"]
    far = county.open(NOW, station=county.far_station)["id"]
    cadre, staff = service(county, CADRE), service(county, STAFF)
    assert [t["id"] for t in cadre.list_tickets(unit_id=VILLAGE)] == [mine]
    assert [t["id"] for t in staff.list_tickets(unit_id=TOWN)] == [neighbours, mine]
    assert [t["id"] for t in staff.list_tickets(unit_id=OTHER_VILLAGE)] == [neighbours]
    with pytest.raises(Forbidden, match="unit_id: name a unit inside your scope"):
        cadre.list_tickets(township_id=TOWN)
    refused(lambda: cadre.list_tickets(unit_id=TOWN), TOWN)
    refused(lambda: staff.list_tickets(unit_id=FAR_VILLAGE), FAR_VILLAGE)
    assert [t["id"] for t in service(county, ADMIN).list_tickets()] == [far, neighbours, mine]


def ids(points):
    return [p["id"] for p in points]


def test_a_station_list_names_a_unit_inside_the_scope_and_gets_the_stations_under_it(county):
    cadre, staff = service(county, CADRE), service(county, STAFF)
    assert ids(cadre.list_service_points(unit_id=VILLAGE)) == [county.station["id"]]
    assert ids(cadre.list_service_points(unit_id=VILLAGE, township_id=TOWN, level="village")) \
        == [county.station["id"]]
    assert cadre.list_service_points(unit_id=VILLAGE, level="township") == []
    assert ids(staff.list_service_points(unit_id=TOWN)) == [
        county.centre["id"], county.station["id"], county.other_station["id"]]
    assert ids(staff.list_service_points(unit_id=TOWN, level="village")) == [
        county.station["id"], county.other_station["id"]]
    assert ids(staff.list_service_points(unit_id=OTHER_VILLAGE)) == [county.other_station["id"]]

    refused(lambda: cadre.list_service_points(unit_id=OTHER_VILLAGE), OTHER_VILLAGE)
    refused(lambda: cadre.list_service_points(unit_id=TOWN), TOWN)
    refused(lambda: staff.list_service_points(unit_id=FAR_VILLAGE), FAR_VILLAGE)
    refused(lambda: staff.list_service_points(unit_id=CITY), CITY)
    for caller in (cadre, staff):
        with pytest.raises(Forbidden, match="unit_id: name a unit inside your scope"):
            caller.list_service_points(township_id=TOWN)


def test_a_station_list_from_inside_or_county_wide_is_not_limited(county):
    every = [county.city, county.centre, county.station, county.other_station,
             county.other_centre, county.far_station]
    for context in ({}, ADMIN):
        listing = service(county, context)
        assert ids(listing.list_service_points()) == ids(every)
        assert ids(listing.list_service_points(unit_id=OTHER_TOWN)) == [
            county.other_centre["id"], county.far_station["id"]]
        assert ids(listing.list_service_points(township_id=TOWN, level="village")) == [
            county.station["id"], county.other_station["id"]]
    with pytest.raises(InvalidInput) as bad:
        service(county, ADMIN).list_service_points(unit_id="12")
    assert "unit_id" in bad.value.errors


def test_stations_and_agents_are_their_host_units(county):
    cadre, staff = service(county, CADRE), service(county, STAFF)
    assert cadre.get_service_point(county.station["id"])["id"] == county.station["id"]
    assert cadre.on_duty(county.station["id"])["service_point_id"] == county.station["id"]
    refused(lambda: cadre.get_service_point(county.centre["id"]), TOWN)
    refused(lambda: cadre.on_duty(county.other_station["id"]), OTHER_VILLAGE)
    shift = {"weekday": 4, "starts": "08:30", "ends": "12:00", "cadre_name": "赵敏"}
    assert staff.set_duty_rota(county.station["id"], {"shifts": [shift]})["shifts"]
    refused(lambda: staff.set_duty_rota(county.far_station["id"], {"shifts": [shift]}),
            FAR_VILLAGE)
    assert staff.register_agent({"service_point_id": county.other_station["id"],
                                 "name": "周强"})["service_point_id"] == county.other_station["id"]
    refused(lambda: staff.register_agent({"service_point_id": county.far_station["id"],
                                          "name": "张强"}), FAR_VILLAGE)
    refused(lambda: cadre.retire_agent(county.other_agent["id"]), OTHER_VILLAGE)
    assert cadre.retire_agent(county.plain_agent["id"])["active"] is False


def test_callers_from_inside_and_county_wide_are_not_limited(county):
    far = county.open(NOW, station=county.far_station)["id"]
    for context in ({}, ADMIN, {**STAFF, "role": "auditor", "scope_unit_id": None}):
        assert service(county, context).get_ticket(far)["id"] == far
    assert service(county, {}).accept_ticket(far, {}, by="scheduler")["status"] == "accepted"
    assert service(county, ADMIN).open_ticket(opening(county.far_station), by="admin")["id"]


def test_an_unknown_object_is_the_rpcs_to_answer(county):
    cadre = service(county, CADRE)
    with pytest.raises(NotFound):
        cadre.get_ticket(987654)
    with pytest.raises(NotFound):
        cadre.accept_ticket(987654, {}, by="cadre")
    with pytest.raises(NotFound):
        cadre.get_service_point(987654)
    for not_an_id in ("12", -1, True, None, 2 ** 70):
        assert cadre.unit_of_ticket(not_an_id) is None
        assert cadre.unit_of_service_point(not_an_id) is None
        assert cadre.unit_of_agent(not_an_id) is None
    assert cadre.unit_of_opening("not a payload") is None
    assert cadre.units_of_reassignment(987654, {"service_point_id": county.station["id"]}) is None


def test_every_owner_is_a_method_taking_its_rpcs_arguments():
    owners = {route.owner for route in TicketsService.api if route.owner}
    assert owners == {"unit_of_ticket", "units_of_reassignment", "unit_of_opening",
                      "unit_of_service_point", "unit_of_agent", "unit_of_new_agent"}
    for route in TicketsService.api:
        if route.owner is None:
            continue
        rpc = inspect.signature(inspect.unwrap(getattr(TicketsService, route.rpc)))
        owner = inspect.signature(getattr(TicketsService, route.owner))
        arguments = {name: object() for name, p in rpc.parameters.items()
                     if name != "self" and p.default is inspect.Parameter.empty}
        arguments.update({route.caller_arg: "x"} if route.caller_arg else {})
        owner.bind(None, **arguments)
