"""The member roster sheet (``services.members.roster``): reading, row checks, duplicates."""
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from services.members import resident_id as rid
from services.members import roster, schemas, sheets
from shared.errors import InvalidInput

TODAY = date(2025, 6, 15)
BRANCH = 7
WANG = rid.make("130983", date(1980, 5, 17), 1, "male")
LI = rid.make("130983", date(1975, 5, 4), 21, "female")
ZHAO = rid.make("130983", date(1969, 11, 30), 8, "male")
HEADER = ",".join(roster.COLUMNS) + "\n"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(schemas, "today", lambda: TODAY)


def csv(*lines, header=HEADER):
    return (header + "".join(line + "\n" for line in lines)).encode("utf-8")


def xlsx(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(rows, registered=None):
    with pytest.raises(InvalidInput) as caught:
        roster.validate_rows(rows, BRANCH, registered or {})
    return caught.value.errors


def test_a_good_csv_gives_members_of_the_branch_with_the_chinese_words_translated():
    rows = roster.parse(csv(f"王建国,男,汉族,1980-05-17,{WANG},13812345678,高中,2005-07-01,正式党员,是",
                            "",
                            f"李秀兰,female,回族,1975-05-04,{LI.lower()},,bachelor,1999-07-01,"
                            "probationary,"), "名册.csv")
    assert [r["_row"] for r in rows] == [2, 4]
    wang, li = roster.validate_rows(rows, BRANCH, {})
    assert wang == {"name": "王建国", "gender": "male", "ethnicity": "汉族",
                    "birth_date": date(1980, 5, 17), "resident_id": WANG,
                    "phone": "13812345678", "education": "senior_secondary",
                    "join_date": date(2005, 7, 1), "status": "full", "household_plaque": True,
                    "branch_id": BRANCH}
    assert li["resident_id"] == LI.upper() and li["household_plaque"] is False
    assert li["phone"] is None and li["status"] == "probationary"


def test_every_bad_row_is_reported_by_row_and_column():
    rows = roster.parse(csv(
        f"王建国,男,汉族,1980-05-17,{WANG},13812345678,,2005-07-01,full,",       # 2 fine
        f"李秀兰,男,汉族,1975-05-04,{LI},,,1999-07-01,full,",                    # 3 gender vs ID
        f"赵,男,汉族,1969-11-30,{ZHAO[:17]}{'1' if ZHAO[17] != '1' else '2'},,,1990-07-01,full,",
        f"周强,男,汉族,1969-11-30,{ZHAO},12345,,1980-07-01,full,",                 # 5 phone, age
        f"吴军,男,汉族,1969-11-30,,,,1990-07-01,member,",                         # 6 no ID, status
        f"郑和,男,汉族,1980-05-17,{WANG},,,2005-07-01,full,,extra",               # 7 extra, dup
    ), "x.csv")
    errors = refused(rows)
    assert set(errors) == {"row 3.resident_id", "row 4.name", "row 4.resident_id", "row 5.phone",
                           "row 5.join_date", "row 6.resident_id", "row 6.status", "row 7._row",
                           "row 7.resident_id", "row 2.resident_id"}
    assert errors["row 3.resident_id"] == ["sequence digit says female, gender says male"]
    assert errors["row 4.resident_id"] == ["check digit does not match (GB 11643)"]
    assert errors["row 7.resident_id"] == ["the same resident ID is on row(s) 2"]
    assert errors["row 2.resident_id"] == ["the same resident ID is on row(s) 7"]
    assert errors["row 7._row"] == ["values found right of the last named column"]


def test_a_resident_id_already_registered_is_refused_on_its_row_in_any_spelling():
    full_width = WANG.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [{"_row": 2, "name": "王建国", "gender": "male", "ethnicity": "汉族",
             "birth_date": "1980-05-17", "resident_id": full_width, "join_date": "2005-07-01",
             "status": "full"}]
    assert roster.resident_ids(rows) == [WANG]
    assert refused(rows, {WANG: 41}) == {"row 2.resident_id": ["already registered (member 41)"]}
    assert roster.validate_rows(rows, BRANCH, {})[0]["resident_id"] == WANG


def test_text_is_stored_as_text_even_when_it_looks_like_a_formula():
    rows = roster.parse(csv(f"=HYPERLINK(\"x\"),男,+汉族,1980-05-17,'{WANG},'13812345678,,"
                            "2005-07-01,full,"), "x.csv")
    [member] = roster.validate_rows(rows, BRANCH, {})
    assert member["name"] == '=HYPERLINK("x")' and member["ethnicity"] == "+汉族"
    assert member["resident_id"] == WANG and member["phone"] == "13812345678"


def test_xlsx_cells_numbers_and_dates_are_read_as_typed():
    content = xlsx([list(roster.COLUMNS),
                    ["王建国", "男", "汉族", datetime(1980, 5, 17), WANG, 13812345678, None,
                     date(2005, 7, 1), "full", True],
                    ["李秀兰", "女", "汉族", "1975-05-04", float(LI[:17] + "0"), None, None,
                     "1999-07-01", "full", None]])
    rows = roster.parse(content, "名册.XLSX")
    assert rows[0]["birth_date"] == date(1980, 5, 17)
    errors = refused(rows)
    assert errors == {"row 3.resident_id": [roster.NUMBER_CELL]}
    [wang] = roster.validate_rows(rows[:1], BRANCH, {})
    assert wang["phone"] == "13812345678" and wang["household_plaque"] is True


@pytest.mark.parametrize("content, reason", [
    (b"name,gender\n\xe7\x8e\x8b,m\n", "missing column(s): ethnicity, birth_date, resident_id"),
    (HEADER.replace("phone", "branch_id").encode() + b"x\n", "unknown column(s): branch_id"),
    (HEADER.encode(), "no data rows"),
    (b"kind,occurred_on\nstudy,2025-06-01\n", "header row"),
])
def test_a_sheet_that_is_not_a_roster_is_refused_as_a_file(content, reason):
    with pytest.raises(InvalidInput) as caught:
        roster.parse(content, "x.csv")
    assert list(caught.value.errors) == ["file"] and reason in caught.value.errors["file"][0]


def test_more_rows_than_the_limit_are_refused(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_ROWS", 3)
    line = f"王建国,男,汉族,1980-05-17,{WANG},,,2005-07-01,full,"
    assert len(roster.parse(csv(*[line] * 3), "x.csv")) == 3
    with pytest.raises(InvalidInput, match="more than 3 data rows"):
        roster.parse(csv(*[line] * 4), "x.csv")


def test_the_template_is_the_header_a_filled_copy_is_read_with():
    template = roster.template_csv()
    assert template.startswith(b"\xef\xbb\xbf")
    assert template.decode("utf-8-sig").strip().split(",") == list(roster.COLUMNS)
    filled = template + f"王建国,男,汉族,1980-05-17,{WANG},,,2005-07-01,预备党员,否\r\n".encode()
    [member] = roster.validate_rows(roster.parse(filled, "t.csv"), BRANCH, {})
    assert member["status"] == "probationary"
