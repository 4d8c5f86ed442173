"""Registering a branch's members from a roster sheet (``import_members``): the service built
without a broker (``worker_factory``) on a migrated database, PostgreSQL and SQLite. All rows
or none; every member published through the outbox in the same transaction."""
import base64
import io
import json
from datetime import date

import pytest
from nameko.testing.services import worker_factory
from openpyxl import Workbook
from sqlalchemy import func, select

from services.members import records, resident_id, roster, sheets
from services.members.models import Member
from services.members.service import MembersService
from shared import db, migrate
from shared.api import Permissions
from shared.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.integration

BORN = date(1980, 5, 17)


def number(n, gender="male"):
    return resident_id.make("130983", BORN, n, gender)


def line(n, name="王建国", gender="男", **cells):
    values = {"name": name, "gender": gender, "ethnicity": "汉族", "birth_date": BORN.isoformat(),
              "resident_id": number(n, "male" if gender == "男" else "female"),
              "phone": "13812345678", "education": "高中", "join_date": "2005-07-01",
              "status": "正式党员", "household_plaque": "否", **cells}
    return ",".join(str(values[c]) for c in roster.COLUMNS)


def sheet(*lines):
    text = "\ufeff" + ",".join(roster.COLUMNS) + "\r\n" + "".join(f"{x}\r\n" for x in lines)
    return base64.b64encode(text.encode()).decode()


def service(url, context=None):
    store = MembersService.store.handle(url, context=context or {})
    return worker_factory(MembersService, store=store, caller=Permissions(), rules={})


@pytest.fixture
def branch(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(MembersService, url)
    members = service(url)
    city = members.create_org_unit({"name": "黄骅市委", "kind": "city_committee", "parent_id": None})
    town = members.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                    "parent_id": city["id"]})
    village = members.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch",
                                       "parent_id": town["id"]})
    return members, village["id"], town["id"], url


def registered_events(url):
    table = MembersService.store.outbox_table
    with db.database(url).reading() as session:
        return [json.loads(body)["data"] for body in session.scalars(
            select(table.c.body).where(table.c.type == "member_registered").order_by(table.c.id))]


def member_count(url):
    with db.database(url).reading() as session:
        return session.scalar(select(func.count()).select_from(Member))


def test_a_roster_registers_every_member_and_publishes_each(branch):
    members, village, _, url = branch
    result = members.import_members(village, "名册.csv", sheet(line(1), line(2, "李秀兰", "女")))
    assert result["imported"] == 2 and len(result["member_ids"]) == 2
    wang = members.get_member(result["member_ids"][0])
    assert wang["branch_id"] == village and wang["gender"] == "male" and wang["status"] == "full"
    assert wang["education"] == "senior_secondary" and wang["category"] == "rural"
    events = registered_events(url)
    assert [e["member_id"] for e in events] == result["member_ids"]
    assert {e["branch_id"] for e in events} == {village}


def test_one_bad_row_stores_nothing_and_every_bad_row_is_reported(branch):
    members, village, _, url = branch
    existing = members.register_member({
        "name": "张三", "gender": "male", "ethnicity": "汉族", "birth_date": BORN.isoformat(),
        "resident_id": number(5), "join_date": "2005-07-01", "status": "full",
        "branch_id": village})
    before = registered_events(url)
    with pytest.raises(InvalidInput) as refused:
        members.import_members(village, "名册.csv", sheet(
            line(1), line(2, gender="女", ethnicity=""), line(1, name="王建军"), line(5),
            line(3, join_date="1990-01-01")))
    assert refused.value.errors == {
        "row 2.resident_id": ["the same resident ID is on row(s) 4"],
        "row 3.ethnicity": ["Missing data for required field."],
        "row 4.resident_id": ["the same resident ID is on row(s) 2"],
        "row 5.resident_id": [f"already registered (member {existing['id']})"],
        "row 6.join_date": ["member must be at least 18 on joining (from 1998-05-17)"],
    }
    assert member_count(url) == 1 and registered_events(url) == before


def test_an_xlsx_roster_keeps_resident_ids_as_text_and_refuses_number_cells(branch):
    members, village, _, url = branch
    book = Workbook()
    book.active.append(list(roster.COLUMNS))
    book.active.append(["王建国", "男", "汉族", BORN, number(1), 13812345678, None,
                        date(2005, 7, 1), "full", True])
    book.active.append(["=1+1", "男", "汉族", BORN, number(2), None, None,
                        "2005-07-01", "probationary", None])
    book.active.cell(3, 1).data_type = "s"          # text typed with a leading =, not a formula
    content = io.BytesIO()
    book.save(content)
    result = members.import_members(village, "roster.xlsx",
                                    base64.b64encode(content.getvalue()).decode())
    assert result["imported"] == 2
    assert members.get_member(result["member_ids"][1])["name"] == "=1+1"
    book.active.append(["李秀兰", "女", "汉族", BORN, float(number(3, "female")[:17] + "0"), None, None,
                        "2005-07-01", "full", None])
    content = io.BytesIO()
    book.save(content)
    with pytest.raises(InvalidInput) as refused:
        members.import_members(village, "roster.xlsx",
                               base64.b64encode(content.getvalue()).decode())
    assert refused.value.errors["row 4.resident_id"] == [roster.NUMBER_CELL]
    assert member_count(url) == 2


def test_the_branch_and_the_file_are_checked_naming_the_argument(branch):
    members, village, town, url = branch
    good = sheet(line(1))
    with pytest.raises(InvalidInput) as not_branch:
        members.import_members(town, "a.csv", good)
    assert list(not_branch.value.errors) == ["branch_id"]
    with pytest.raises(NotFound):
        members.import_members(999_999, "a.csv", good)
    for call, field in ((lambda: members.import_members(village, "a.pdf", good), "filename"),
                        (lambda: members.import_members(village, "a.csv", "%%%"), "content_base64"),
                        (lambda: members.import_members(village, "a.csv", sheet()),
                         "content_base64"),
                        (lambda: members.import_members("x", "a.csv", good), "branch_id")):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert list(refused.value.errors) == [field]
    assert member_count(url) == 0


def test_more_than_the_row_limit_is_refused_with_a_clear_error(branch, monkeypatch):
    members, village, _, url = branch
    monkeypatch.setattr(sheets, "MAX_ROWS", 3)
    with pytest.raises(InvalidInput) as refused:
        members.import_members(village, "a.csv", sheet(*(line(n) for n in range(1, 5))))
    assert refused.value.errors == {"content_base64": ["more than 3 data rows; split the file"]}
    assert members.import_members(village, "a.csv",
                                  sheet(*(line(n) for n in range(1, 4))))["imported"] == 3


def test_the_same_upload_with_the_same_idempotency_key_registers_once(branch):
    _, village, _, url = branch
    keyed = service(url, {"idempotency_key": "roster-2026-11"})
    first = keyed.import_members(village, "名册.csv", sheet(line(1), line(2)))
    assert keyed.import_members(village, "名册.csv", sheet(line(1), line(2))) == first
    with pytest.raises(Conflict):
        keyed.import_members(village, "名册.csv", sheet(line(3)))
    assert member_count(url) == 2 and len(registered_events(url)) == 2


def test_the_template_is_the_header_row_of_a_roster(branch):
    members, *_ = branch
    header = base64.b64decode(members.member_sheet_template()).decode("utf-8-sig")
    assert header.strip().split(",") == list(roster.COLUMNS)


def test_a_member_registered_between_the_check_and_the_insert_is_a_conflict(branch, monkeypatch):
    members, village, _, url = branch
    members.import_members(village, "a.csv", sheet(line(1)))
    monkeypatch.setattr(records, "registered_resident_ids", lambda session, numbers: {})
    with pytest.raises(Conflict, match="registered meanwhile"):
        members.import_members(village, "b.csv", sheet(line(2), line(1)))
    assert member_count(url) == 1 and len(registered_events(url)) == 1
    assert members.import_members(village, "c.csv", sheet(line(2)))["imported"] == 1
