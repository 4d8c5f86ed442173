"""The members service normalises what a Chinese input method types and refuses what no column
can hold, over real RPC, on PostgreSQL and SQLite (regressions found by the input fuzz suite)."""
import base64
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.members import resident_id
from services.members.models import Activity, Member
from services.members.service import REVEAL_PERMISSION, MembersService
from shared import db, migrate
from shared.bus.rpc import rpc_client
from shared.errors import Conflict, InvalidInput
from tests.support.fixtures import make_config
from tests.support.running import services_running

pytestmark = pytest.mark.integration

FULL_WIDTH = str.maketrans("0123456789-X", "０１２３４５６７８９－Ｘ")
DAY = (date.today() - timedelta(days=2)).isoformat()


@pytest.fixture
def members(amqp_uri, db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    config = make_config(amqp_uri, {"members": url})
    with services_running(config, MembersService):
        with rpc_client(config, context_data={"permissions": [REVEAL_PERMISSION]}) as cluster:
            rpc = cluster.members
            city = rpc.create_org_unit({"name": "黄骅市委", "kind": "city_committee", "parent_id": None})
            town = rpc.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                        "parent_id": city["id"]})
            village = rpc.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch",
                                           "parent_id": town["id"]})
            yield rpc, village["id"], db.database(url)


def count(database, model):
    with database.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def person(branch_id, number=1, **overrides):
    born = date(1980, 5, 17)
    return {"name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, "male"), "phone": "13812345678",
            "join_date": "2005-07-01", "status": "full", "branch_id": branch_id, **overrides}


def test_a_resident_id_typed_in_full_width_digits_is_the_same_person(members):
    rpc, branch_id, database = members
    for number, first_typed in ((7, "ascii"), (8, "full-width")):
        ascii_id = person(branch_id, number)["resident_id"]
        typed = {"ascii": ascii_id, "full-width": ascii_id.translate(FULL_WIDTH)}
        second_typed = "ascii" if first_typed == "full-width" else "full-width"
        assert typed["full-width"] != ascii_id and not typed["full-width"].isascii()

        first = rpc.register_member(person(branch_id, number, resident_id=typed[first_typed],
                                           phone="１３８１２３４５６７８"))
        assert first["resident_id"] == ascii_id and first["phone"] == "13812345678"
        with pytest.raises((InvalidInput, Conflict)) as refused:
            rpc.register_member(person(branch_id, number, resident_id=typed[second_typed],
                                       name="王建國"))
        if isinstance(refused.value, InvalidInput):
            assert list(refused.value.errors) == ["resident_id"]
        assert "already registered" in str(refused.value)
    with database.reading() as session:
        assert sorted(session.scalars(select(Member.resident_id)).all()) == sorted(
            person(branch_id, n)["resident_id"] for n in (7, 8))

    sheet = ("resident_id,kind,occurred_on,attended\r\n"
             f"{first['resident_id'].translate(FULL_WIDTH)},study,{DAY.translate(FULL_WIDTH)},是\r\n")
    result = rpc.import_activities(branch_id, "十一月.csv", base64.b64encode(sheet.encode()).decode())
    assert result["imported"] == 1
    with database.reading() as session:
        assert session.scalars(select(Activity.member_id)).all() == [first["id"]]


ACTIVITY_REFUSALS = [
    ("amount", "1e999"), ("amount", "123456789012345678901234567890"), ("amount", "NaN"),
    ("amount", "Infinity"), ("amount", "100.005"), ("member_id", 2 ** 70), ("member_id", 2 ** 63),
    ("occurred_on", "2026-11-20\x00"), ("kind", "donation\x00"),
]

OTHER_REFUSALS = [
    (lambda rpc, b: rpc.register_member(person(b, name="王\x00建国")), "name"),
    (lambda rpc, b: rpc.register_member(person(b, ethnicity="汉\x07族")), "ethnicity"),
    (lambda rpc, b: rpc.create_team({"name": "队\x00", "branch_id": b}), "name"),
    (lambda rpc, b: rpc.get_member(2 ** 70), "member_id"),
    (lambda rpc, b: rpc.list_members(b, state="active\x00"), "state"),
    (lambda rpc, b: rpc.list_teams(township_id=2 ** 64), "township_id"),
    (lambda rpc, b: rpc.list_overdue_development(today=-1), "today"),
    (lambda rpc, b: rpc.import_activities(b, "x.csv", base64.b64encode(b"").decode()),
     "content_base64"),
    (lambda rpc, b: rpc.import_activities(b, "x.xlsx", base64.b64encode(b"PK\x03\x04trunc").decode()),
     "content_base64"),
    (lambda rpc, b: rpc.import_activities(b, "x.pdf", ""), "filename"),
    (lambda rpc, b: rpc.apply_for_membership("not a dict"), "payload"),
]


def test_inputs_no_column_can_hold_are_refused_naming_the_field(members):
    rpc, branch_id, database = members
    member = rpc.register_member(person(branch_id))
    for field, value in ACTIVITY_REFUSALS:
        payload = {"member_id": member["id"], "kind": "donation", "occurred_on": DAY,
                   "amount": "100.50", field: value}
        with pytest.raises(InvalidInput) as refused:
            rpc.record_activity(payload)
        assert list(refused.value.errors) == [field], (field, value)
    for call, field in OTHER_REFUSALS:
        with pytest.raises(InvalidInput) as refused:
            call(rpc, branch_id)
        assert list(refused.value.errors) == [field], field
    assert count(database, Activity) == 0 and count(database, Member) == 1
