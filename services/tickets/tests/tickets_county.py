"""A small county for the tickets service's database tests (no broker): units and members as
members' events would teach them, the three levels of service points, a catalogue and agents."""
import json
from dataclasses import dataclass
from datetime import datetime, time
from types import SimpleNamespace

from sqlalchemy import select

from services.tickets import catalogue, directory, network, sla, ticket_flow
from services.tickets import settings as settings_module
from services.tickets.service import TicketsService
from shared import migrate

CITY, TOWN, VILLAGE, OTHER_VILLAGE, OTHER_TOWN, FAR_VILLAGE, INSTITUTION = 1, 2, 12, 13, 3, 31, 40
UNITS = [
    (CITY, None, None, "city_committee", "黄骅市委"),
    (TOWN, CITY, None, "township_committee", "旧城镇党委"),
    (VILLAGE, TOWN, TOWN, "village_branch", "前辛庄村党支部"),
    (OTHER_VILLAGE, TOWN, TOWN, "village_branch", "后辛庄村党支部"),
    (OTHER_TOWN, CITY, None, "township_committee", "羊二庄镇党委"),
    (FAR_VILLAGE, OTHER_TOWN, OTHER_TOWN, "village_branch", "王庄村党支部"),
    (INSTITUTION, CITY, None, "institution_branch", "市教育局机关党支部"),
]
MEMBER, OTHER_MEMBER, FAR_MEMBER = 101, 102, 103
MATTERS = [
    {"code": "certificate", "name": "开具村级证明", "group": "村务", "lowest_level": "village",
     "time_limit_days": 2, "documents": ["居民身份证"]},
    {"code": "pension_check", "name": "养老保险资格认证", "group": "社保", "lowest_level": "village",
     "time_limit_days": 3, "documents": ["居民身份证", "社保卡"]},
    {"code": "minimum_living", "name": "最低生活保障申请", "group": "民政", "lowest_level": "township",
     "time_limit_days": 20, "documents": ["居民身份证", "户口簿"]},
    {"code": "legal_aid", "name": "法律援助申请", "group": "司法", "lowest_level": "city",
     "time_limit_days": 7, "documents": []},
]


def event(type_, **data):
    return SimpleNamespace(type=type_, source="members", data=data)


def unit_events():
    return [event("org_unit_created", org_unit_id=i, parent_id=p, township_id=t, kind=k, name=n)
            for i, p, t, k, n in UNITS]


def member_events():
    return [event("member_registered", member_id=MEMBER, branch_id=VILLAGE, township_id=TOWN,
                  category="rural", name="王建国", status="full", join_date=None),
            event("member_registered", member_id=OTHER_MEMBER, branch_id=VILLAGE, township_id=TOWN,
                  category="rural", name="李秀英", status="full", join_date=None),
            event("member_registered", member_id=FAR_MEMBER, branch_id=FAR_VILLAGE,
                  township_id=OTHER_TOWN, category="rural", name="张伟", status="full", join_date=None)]


def at(year, month, day, hour=9, minute=0) -> datetime:
    """China-local wall time as an aware datetime."""
    return datetime.combine(datetime(year, month, day).date(), time(hour, minute), tzinfo=sla.LOCAL)


@dataclass
class County:
    store: object
    settings: object
    city: dict
    centre: dict
    station: dict
    other_station: dict
    other_centre: dict
    far_station: dict
    member_agent: dict
    plain_agent: dict
    other_agent: dict

    def tx(self):
        return self.store.transaction()

    def open(self, now, matter="pension_check", station=None, **extra):
        data = {"service_point_id": (station or self.station)["id"], "matter_code": matter,
                "requester_name": "刘大爷", "by": "值班员 赵敏", **extra}
        with self.tx() as session:
            return ticket_flow.open_ticket(session, self.settings, data, now)

    def proxy(self, now, agent=None, consent_on=None, **extra):
        agent = agent or self.member_agent
        consent = {"method": "signature", "given_on": consent_on or sla.local_date(now),
                   "form_reference": "代办委托书 2026-0001"}
        return self.open(now, agent_id=agent["id"], consent=consent, **extra)

    def act(self, ticket, action, now, **data):
        data.setdefault("by", "值班员 赵敏")
        with self.tx() as session:
            return ticket_flow.act(session, self.settings, ticket["id"], action, data, now)

    def detail(self, ticket):
        with self.store.reading() as session:
            return ticket_flow.detail(session, ticket["id"])

    def published(self, type_=None) -> list[dict]:
        table = self.store.outbox_table
        with self.store.reading() as session:
            rows = session.execute(select(table.c.type, table.c.body).order_by(table.c.id)).all()
        return [json.loads(body)["data"] for kind, body in rows if type_ in (None, kind)]


def build(url, rules=None) -> County:
    migrate.upgrade(TicketsService, url)
    store = TicketsService.store.handle(url)
    settings = settings_module.load({"tickets": rules or {}})
    with store.transaction() as session:
        directory.learn(session, unit_events() + member_events())
    points = {}
    with store.transaction() as session:
        for unit in (CITY, TOWN, VILLAGE, OTHER_VILLAGE, OTHER_TOWN, FAR_VILLAGE):
            points[unit] = network.register_point(session, {"unit_id": unit})
        for matter in MATTERS:
            catalogue.define(session, matter)
    today = at(2026, 9, 1).date()
    with store.transaction() as session:
        member_agent = network.register_agent(session, {
            "service_point_id": points[VILLAGE]["id"], "name": "王建国", "member_id": MEMBER}, today)
        plain_agent = network.register_agent(session, {
            "service_point_id": points[VILLAGE]["id"], "name": "陈晓（大学生村官）"}, today)
        other_agent = network.register_agent(session, {
            "service_point_id": points[OTHER_VILLAGE]["id"], "name": "周平"}, today)
    return County(store, settings, points[CITY], points[TOWN], points[VILLAGE],
                  points[OTHER_VILLAGE], points[OTHER_TOWN], points[FAR_VILLAGE],
                  member_agent, plain_agent, other_agent)
