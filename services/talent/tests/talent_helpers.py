"""Shared set-up of the talent service's database tests (imported by the test modules): a small
county learned from members' events, and readers of the outbox."""
import json
from datetime import date

import pytest
from sqlalchemy import select

from services.talent import cadres, directory
from services.talent import settings as settings_module
from services.talent.service import TalentService
from shared import migrate
from shared.contracts.envelope import Envelope

DAY = date(2026, 11, 27)
SETTINGS = settings_module.load({})
CITY, TOWN, OTHER_TOWN, INSTITUTION = 1, 2, 3, 40
VILLAGES = (12, 13, 14)
FAR_VILLAGE = 31
UNITS = [(CITY, None, None, "city_committee", "黄骅市委"),
         (TOWN, CITY, TOWN, "township_committee", "旧城镇党委"),
         (OTHER_TOWN, CITY, OTHER_TOWN, "township_committee", "南排河镇党委"),
         (12, TOWN, TOWN, "village_branch", "前辛庄村党支部"),
         (13, TOWN, TOWN, "village_branch", "后辛庄村党支部"),
         (14, TOWN, TOWN, "village_branch", "齐家务村党支部"),
         (FAR_VILLAGE, OTHER_TOWN, OTHER_TOWN, "village_branch", "歧口村党支部"),
         (50, TOWN, TOWN, "community_branch", "渤海路社区党支部"),
         (INSTITUTION, CITY, None, "institution_branch", "市直机关党支部")]
# members: id -> (branch, status)
MEMBERS = {101: (12, "full"), 102: (12, "full"), 103: (13, "probationary"), 104: (14, "full"),
           105: (INSTITUTION, "full"), 106: (INSTITUTION, "full"), 107: (31, "full")}


def unit_event(unit_id, parent_id, township_id, kind, name, type_="org_unit_created", **extra):
    return Envelope(type_, "members", {"org_unit_id": unit_id, "parent_id": parent_id,
                                       "township_id": township_id, "kind": kind, "name": name,
                                       **extra})


def member_event(member_id, branch_id, status="full", type_="member_registered", **extra):
    township = next(u[2] for u in UNITS if u[0] == branch_id)
    category = {"village_branch": "rural", "institution_branch": "institution"}.get(
        next(u[3] for u in UNITS if u[0] == branch_id), "community")
    data = {"member_id": member_id, "branch_id": branch_id, "township_id": township,
            "category": category, **extra}
    if type_ == "member_registered":
        data.update(name=f"党员{member_id}", status=status, join_date="2005-07-01")
    if type_ == "member_status_changed":
        data.update(status=status)
    return Envelope(type_, "members", data)


def county_events():
    return [unit_event(*unit) for unit in UNITS] + [
        member_event(member_id, branch, status) for member_id, (branch, status) in MEMBERS.items()]


@pytest.fixture
def store(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(TalentService, url)
    handle = TalentService.store.handle(url)
    with handle.transaction() as session:
        directory.learn(session, county_events())
    return handle


def person(store, member_id=None, **profile):
    data = {"name": "王建国", "gender": "male", "birth_date": date(1982, 5, 17),
            "education": "associate", "member_id": member_id,
            "standing": None if member_id else "activist", "experience_years": 6,
            "experience": None, "registered_on": None, "unit_id": None, **profile}
    with store.transaction() as session:
        return cadres.register(session, data, DAY)


def events(store, event_type) -> list[dict]:
    """The payloads of ``event_type`` in the outbox, oldest first."""
    table = TalentService.store.outbox_table
    with store.reading() as session:
        rows = session.execute(select(table.c.body).where(table.c.type == event_type)
                               .order_by(table.c.id)).scalars().all()
    return [json.loads(body)["data"] for body in rows]
