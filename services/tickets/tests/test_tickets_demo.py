"""The demo: stations, agents, rotas and a month of tickets for the demo county, learned from the
members service by RPC (real RabbitMQ), loaded once, on PostgreSQL and SQLite."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from services.members.service import MembersService
from services.tickets import demo, reports
from services.tickets.models import Agent, ServicePoint, Ticket, TicketChange
from services.tickets.service import TicketsService
from shared import migrate
from shared.bus.rpc import rpc_client
from shared.contracts import registry
from tests.support.fixtures import make_config
from tests.support.running import services_running

pytestmark = pytest.mark.integration


def test_the_demo_loads_once(amqp_uri, db_url_factory):
    urls = {"members": db_url_factory(), "tickets": db_url_factory()}
    migrate.upgrade(MembersService, urls["members"])
    migrate.upgrade(TicketsService, urls["tickets"])
    config = make_config(amqp_uri, urls)
    MembersService.load_demo(config, scale=0.05, month=(2026, 10))
    store = TicketsService.store.handle(urls["tickets"], "tickets")
    with services_running(config, MembersService), rpc_client(config, timeout=30) as cluster:
        summary = demo.load(config, cluster, scale=0.05, today=date(2026, 11, 27))
        assert TicketsService.load_demo_live(config, cluster, scale=0.05) is None
    assert summary["month"] == "2026-10" and summary["stations"] >= 10
    assert summary["member_agents"] >= summary["stations"] - 2
    with store.reading() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(ServicePoint) == summary["stations"] + summary["centres"] + 1
        assert count(Agent) == summary["agents"] and count(Ticket) == summary["tickets"]
        assert count(TicketChange) >= 3 * summary["tickets"]
        measured = reports.for_scope(session, "county", None, date(2026, 10, 1), date(2026, 10, 31))
        until_today = reports.for_scope(session, "county", None, date(2026, 10, 1), date(2026, 11, 26))
        rows = session.execute(select(store.outbox_table.c.type, store.outbox_table.c.body)).all()
        escalated = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.escalations > 0))
    assert measured["opened"] == summary["tickets"] and until_today["resolved"] == summary["resolved"]
    assert 0 < measured["resolved"] <= summary["resolved"]
    assert 0.6 < float(measured["settled_in_village"]) < 0.95
    assert float(measured["settled_in_township"]) > float(measured["settled_in_village"])
    assert 0.7 < float(measured["on_time"]) < 1 and escalated > 0
    assert 3.5 < float(measured["satisfaction"]) < 5
    assert len(rows) == summary["events"] and {kind for kind, _ in rows} == {"ticket_resolved", "sla_breached"}
    for kind, body in rows:                           # every payload keeps its contract
        registry.get("tickets", kind).load(json.loads(body)["data"])
    credited = [json.loads(body)["data"] for kind, body in rows if kind == "ticket_resolved"]
    assert any(event["member_id"] for event in credited)
