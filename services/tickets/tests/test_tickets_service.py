"""The tickets service over the real RabbitMQ, on PostgreSQL and SQLite: it learns units and
members from members' events, answers its RPCs (idempotently for writes, refusing bad input by
field), and its ``@timer`` scheduler, driven by a clock the test sets, warns, breaches and
escalates across the 2026 National Day week."""
from datetime import timedelta

import pytest
from nameko.testing.utils import get_container, get_extension

from services.tickets.clock import Clock
from services.tickets.service import TicketsService
from shared import migrate, plugins
from shared.bus.rpc import rpc_client
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, InvalidInput, NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy, publish_raw
from tickets_county import MATTERS, VILLAGE, at, member_events, unit_events

pytestmark = pytest.mark.integration


@pytest.fixture
def config(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(TicketsService, url)
    config = make_config(amqp_uri, {"tickets": url})
    config["services"]["tickets"]["scan_interval_seconds"] = 0.2
    plugins.register(TicketsService)
    yield config
    plugins.unregister("tickets")


def teach(config):
    for number, fake in enumerate(unit_events() + member_events()):
        body = Envelope(fake.type, "members", fake.data).to_wire()
        publish_raw(config, body, f"m-{number}")


def _known(service, unit_id):
    try:
        return service.known_unit(unit_id)
    except NotFound:
        return None


def test_rpcs_over_the_broker_and_the_scheduler_on_a_set_clock(config, amqp_uri):
    spy = EventSpy(amqp_uri, "tickets")
    try:
        with services_running(config, TicketsService) as runner:
            clock = get_extension(get_container(runner, TicketsService), Clock)
            clock.set(at(2026, 9, 29, 9))
            teach(config)
            with rpc_client(config) as cluster:
                tickets = cluster.tickets
                wait_for(lambda: _known(tickets, VILLAGE), message="units learned from members")
                wait_for(lambda: _member(tickets, 101), message="members learned")
                points = {unit: tickets.register_service_point({"unit_id": unit}) for unit in (1, 2, VILLAGE)}
                for matter in MATTERS:
                    tickets.define_matter(matter)
                agent = tickets.register_agent({"service_point_id": points[VILLAGE]["id"],
                                                "name": "王建国", "member_id": 101})
                opened = tickets.open_ticket({
                    "service_point_id": points[VILLAGE]["id"], "matter_code": "pension_check",
                    "requester_name": "刘大爷", "by": "王建国", "agent_id": agent["id"],
                    "consent": {"method": "thumbprint", "given_on": "2026-09-29",
                                "form_reference": "委托书-0929-01"}})
                assert opened["due_on"] == "2026-10-09"
                tickets.accept_ticket(opened["id"], {"by": "王建国"})
                with pytest.raises(Conflict) as refused:
                    tickets.accept_ticket(opened["id"], {"by": "王建国"})
                assert "cannot accept a ticket that is accepted" in str(refused.value)
                with pytest.raises(InvalidInput) as refused:
                    tickets.resolve_ticket(opened["id"], {"by": "\x00", "outcome": ""})
                assert set(refused.value.errors) == {"by", "outcome"}

                clock.set(at(2026, 10, 8, 10))                # one working day left
                spy.wait_for("sla_warning")
                clock.set(at(2026, 10, 10, 9))                # the make-up Saturday: breached
                breach = spy.wait_for("sla_breached")[0]["data"]
                assert (breach["level"], breach["escalated_to"], breach["member_id"]) == ("village", "township", 101)
                escalated = spy.wait_for("ticket_escalated")[0]["data"]
                assert escalated["reason"] == "time_limit" and escalated["due_on"] == "2026-10-14"
                now = tickets.get_ticket(opened["id"])
                assert (now["level"], now["service_point_id"]) == ("township", points[2]["id"])
                assert tickets.scan_time_limits() == {"warnings": 0, "breaches": 0, "escalations": 0, "closed": 0}

                clock.advance(timedelta(days=1))
                tickets.accept_ticket(opened["id"], {"by": "民政所 孙"})
                resolved = tickets.resolve_ticket(opened["id"], {"by": "民政所 孙", "outcome": "认证完成"})
                assert resolved["working_days"] == 4 and resolved["resolved_level"] == "township"
                event = spy.wait_for("ticket_resolved")[0]["data"]
                assert (event["member_id"], event["on_time"], event["branch_id"]) == (101, False, VILLAGE)
                assert tickets.health()["status"] == "ok"
            with rpc_client(config, idempotency_key="rate-once") as cluster:
                first = cluster.tickets.rate_ticket(opened["id"], {"by": "刘大爷", "rating": 4})
                assert cluster.tickets.rate_ticket(opened["id"], {"by": "刘大爷", "rating": 4}) == first
            assert len(spy.wait_for("ticket_rated")) == 1
            assert len(spy.wait_for("ticket_opened")) == 1
    finally:
        spy.close()


def _member(service, member_id):
    try:
        return service.known_member(member_id)
    except NotFound:
        return None
