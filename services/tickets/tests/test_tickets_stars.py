"""End to end through the real RabbitMQ, on PostgreSQL and SQLite: members, stars and tickets
running; a ticket settled by a proxy agent who is a member raises that member's, the branch's and
the township committee's star scores, by the rulebook entries in config/rulebooks alone."""
from datetime import date
from decimal import Decimal

import pytest

from services.members import resident_id
from services.members.service import MembersService
from services.stars import periods
from services.stars.service import StarsService
from services.tickets.service import TicketsService
from shared import migrate, plugins
from shared.bus.rpc import rpc_client
from shared.errors import NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def config(amqp_uri, db_url_factory):
    urls = {}
    for cls in (MembersService, StarsService, TicketsService):
        urls[cls.name] = db_url_factory()
        migrate.upgrade(cls, urls[cls.name])
    plugins.register(TicketsService)
    yield make_config(amqp_uri, urls)
    plugins.unregister("tickets")


def register(members, branch, number, name):
    born = date(1982, 6, 1)
    return members.register_member({
        "name": name, "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
        "resident_id": resident_id.make("130983", born, number, "male"), "phone": "13812345678",
        "education": "senior_secondary", "join_date": "2008-07-01", "status": "full",
        "household_plaque": True, "branch_id": branch})["id"]


def score(stars, kind, subject_id, period):
    try:
        return Decimal(stars.score(kind, subject_id, period)["score"])
    except NotFound:
        return None


def test_a_ticket_settled_by_a_member_agent_raises_the_agents_star_score(config):
    with services_running(config, MembersService, StarsService, TicketsService), \
            rpc_client(config) as cluster:
        members, stars, tickets = cluster.members, cluster.stars, cluster.tickets
        unit = lambda name, kind, parent: members.create_org_unit(  # noqa: E731
            {"name": name, "kind": kind, "parent_id": parent})["id"]
        city = unit("黄骅市委", "city_committee", None)
        town = unit("旧城镇党委", "township_committee", city)
        village = unit("前辛庄村党支部", "village_branch", town)
        agent_member = register(members, village, 1, "王建国")
        other_member = register(members, village, 2, "李秀英")
        wait_for(lambda: _known(tickets.known_member, agent_member), message="tickets learned the member")
        points = {u: tickets.register_service_point({"unit_id": u})["id"] for u in (city, town, village)}
        tickets.load_default_catalogue()
        agent = tickets.register_agent({"service_point_id": points[village], "name": "王建国",
                                        "member_id": agent_member})
        ticket = tickets.open_ticket({
            "service_point_id": points[village], "matter_code": "pension_check",
            "requester_name": "刘大爷", "by": "王建国", "agent_id": agent["id"],
            "consent": {"method": "signature", "given_on": _local_today().isoformat(),
                        "form_reference": "代办委托书-0001"}})
        month = periods.month_key(_local_today())
        wait_for(lambda: score(stars, "member", agent_member, month) is not None,
                 message="stars knows the agent")
        before = score(stars, "member", agent_member, month)
        branch_before = score(stars, "branch", village, month) or Decimal(0)

        tickets.accept_ticket(ticket["id"], {"by": "王建国"})
        tickets.resolve_ticket(ticket["id"], {"by": "王建国", "outcome": "资格认证已完成"})

        wait_for(lambda: score(stars, "member", agent_member, month) == before + 1,
                 message="the agent's score up by the rulebook's 1 point")
        explained = stars.explain("member", agent_member, month)
        assert "proxy_service" in str(explained) and "member-proxy-agent" in str(explained)
        assert score(stars, "member", other_member, month) == 0
        # the branch: its own 0.5 plus half the mean of its members' scores (0.5 x (1 + 0) / 2)
        wait_for(lambda: score(stars, "branch", village, month) == branch_before + Decimal("0.75"),
                 message="the branch credited")
        wait_for(lambda: (score(stars, "committee", town, month) or 0) >= Decimal("0.1"),
                 message="the township committee credited (settled in the village)")


def _known(method, key):
    try:
        return method(key)
    except NotFound:
        return None


def _local_today():
    from datetime import datetime, timezone

    from services.tickets import sla
    return sla.local_date(datetime.now(timezone.utc))
