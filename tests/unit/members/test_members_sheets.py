import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from services.members import resident_id as rid
from services.members import schemas, sheets
from shared.errors import InvalidInput

TODAY = date(2025, 6, 15)
ALICE = rid.make("130983", date(1975, 5, 4), 21, "female")
BOB = rid.make("130983", date(1969, 11, 30), 8, "male")
STRANGER = rid.make("130983", date(1990, 1, 1), 3, "male")
MEMBERS = {ALICE: 11, BOB: 12}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(schemas, "today", lambda: TODAY)


def csv_bytes(text, bom=False):
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def refused_file(content, name):
    with pytest.raises(InvalidInput) as caught:
        sheets.parse(content, name)
    assert list(caught.value.errors) == ["file"]
    return caught.value.errors["file"][0]


def xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("ignored").append(["nothing"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_CSV = (
    "resident_id,kind,occurred_on,hours,project,meeting_kind,attended\n"
    f"{ALICE},volunteer_service,2025-06-01,2.5,爱心早餐,,\n"
    "\n"
    f"{BOB.lower()},meeting,2025-06-03,,,party_lesson,true\n"
)


@pytest.mark.parametrize("bom", [False, True])
def test_parse_csv(bom):
    rows = sheets.parse(csv_bytes(GOOD_CSV, bom), "六月.CSV")
    assert rows == [
        {"_row": 2, "resident_id": ALICE, "kind": "volunteer_service", "occurred_on": "2025-06-01",
         "hours": "2.5", "project": "爱心早餐"},
        {"_row": 4, "resident_id": BOB.lower(), "kind": "meeting", "occurred_on": "2025-06-03",
         "meeting_kind": "party_lesson", "attended": "true"},
    ]
    loaded = sheets.validate_rows(rows, MEMBERS.get)
    assert [a["member_id"] for a in loaded] == [11, 12]
    assert loaded[0]["hours"] == Decimal("2.5") and loaded[0]["occurred_on"] == date(2025, 6, 1)
    assert loaded[1]["attended"] is True and loaded[1]["hours"] is None


def test_parse_xlsx():
    content = xlsx([
        ["member_id", "kind", "occurred_on", "households", "amount", "hours"],
        [11, "pairing", datetime(2025, 6, 2), 3, None, None],
        [None, None, None, None, None, None],
        [12, "donation", date(2025, 6, 9), None, 200.5, None],
        [12, "volunteer_service", "2025-06-10", None, None, 1.25],
    ])
    rows = sheets.parse(content, "june.xlsx")
    assert rows[0] == {"_row": 2, "member_id": 11, "kind": "pairing", "occurred_on": date(2025, 6, 2),
                       "households": 3}
    assert [r["_row"] for r in rows] == [2, 4, 5]
    loaded = sheets.validate_rows(rows, MEMBERS.get)
    assert loaded[1]["amount"] == Decimal("200.5") and loaded[2]["hours"] == Decimal("1.25")
    assert loaded[0]["households"] == 3


def test_xlsx_resident_id_stored_as_number():
    content = xlsx([["resident_id", "kind", "occurred_on"], [float(BOB[:17] + "0"), "badge_wearing", "2025-06-01"]])
    with pytest.raises(InvalidInput) as caught:
        sheets.validate_rows(sheets.parse(content, "a.xlsx"), MEMBERS.get)
    assert "as text" in caught.value.errors["row 2.resident_id"][-1]


def test_bad_rows_are_all_reported():
    text = (
        "resident_id,member_id,kind,occurred_on,hours,households,amount\n"
        f"{ALICE},,volunteer_service,2025-06-01,30,,\n"          # 2: hours too high
        f"{ALICE},,pairing,2025-06-01,,,\n"                      # 3: households missing
        f"{STRANGER},,blood_donation,2025-06-01,,,\n"            # 4: unknown member
        f"{ALICE[:17]}0,,blood_donation,2025-06-01,,,\n"         # 5: bad check digit (unless 0 is right)
        ",,badge_wearing,2025-06-01,,,\n"                        # 6: nobody
        f"{ALICE},,donation,2026-01-01,,,5\n"                    # 7: future date and hours... ok amount
        f"{BOB},,badge_wearing,2025-06-01,1,,\n"                 # 8: hours does not apply
        f"{BOB},11,badge_wearing,2025-06-01,,,\n"                # 9: ids disagree
        ",12,dancing,2025-06-01,,,\n"                            # 10: bad kind
        f"{BOB},,community_report,2025-06-01,,,\n"               # 11: fine
    )
    if ALICE[17] == "0":
        text = text.replace(f"{ALICE[:17]}0", f"{ALICE[:17]}1")
    with pytest.raises(InvalidInput) as caught:
        sheets.validate_rows(sheets.parse(csv_bytes(text), "x.csv"), MEMBERS.get)
    errors = caught.value.errors
    assert set(errors) == {"row 2.hours", "row 3.households", "row 4.resident_id", "row 5.resident_id",
                           "row 6.member_id", "row 7.occurred_on", "row 8.hours", "row 9.member_id",
                           "row 10.kind"}
    assert errors["row 8.hours"] == ["does not apply to kind badge_wearing"]
    assert errors["row 3.households"] == ["required for kind pairing"]
    assert errors["row 5.resident_id"] == ["check digit does not match (GB 11643)"]


def test_resolver_called_once_per_person():
    calls = []

    def resolve(number):
        calls.append(number)
        return MEMBERS.get(number)

    rows = [{"_row": n, "resident_id": ALICE, "kind": "badge_wearing", "occurred_on": "2025-06-01"}
            for n in range(2, 52)]
    assert len(sheets.validate_rows(rows, resolve)) == 50
    assert calls == [ALICE]


def test_rows_without_row_numbers():
    with pytest.raises(InvalidInput) as caught:
        sheets.validate_rows([{"member_id": 1, "kind": "badge_wearing", "occurred_on": "2025-06-01"},
                              {"member_id": 1, "kind": "study", "occurred_on": "2025-06-01"}], MEMBERS.get)
    assert caught.value.errors == {"row 3.attended": ["required for kind study"]}


@pytest.mark.parametrize("content, name, reason", [
    (b"a,b", "x.txt", "unknown format"),
    (b"a,b", "x.xls", ".xls"),
    (b"", "x.csv", "empty"),
    (b"\n\n,,\n", "x.csv", "empty"),
    ("resident_id,kind\n".encode("gbk") + "王".encode("gbk"), "x.csv", "UTF-8"),
    (b"not a zip at all", "x.xlsx", "unreadable"),
    (b"resident_id,kind,occurred_on\n", "x.csv", "no data rows"),
    (b"resident_id,kind,occurred_on,minutes\n1,2,3,4\n", "x.csv", "unknown column(s): minutes"),
    (b"resident_id,kind,occurred_on,kind\n1,2,3,4\n", "x.csv", "repeated column(s): kind"),
    (b"resident_id,kind\n1,2\n", "x.csv", "missing column(s): occurred_on"),
    (b"kind,occurred_on\n1,2\n", "x.csv", "resident_id or member_id"),
    (b"130983,volunteer_service,2025-06-01\n", "x.csv", "header"),
    (b"\nresident_id,kind,occurred_on\n1,2,3\n", "x.csv", "header"),
    (b"resident_id,,occurred_on\n1,2,3\n", "x.csv", "header"),
    (b'resident_id,kind\n"1,2\n', "x.csv", "unreadable CSV"),
])
def test_unusable_files(content, name, reason):
    assert reason in refused_file(content, name)


def test_header_is_trimmed_and_case_insensitive():
    rows = sheets.parse(b" Member_ID ,KIND,occurred_on\n5,badge_wearing,2025-06-01\n", "x.csv")
    assert rows == [{"_row": 2, "member_id": "5", "kind": "badge_wearing", "occurred_on": "2025-06-01"}]


def test_values_beyond_the_header_are_refused():
    rows = sheets.parse(b"member_id,kind,occurred_on\n11,badge_wearing,2025-06-01,oops\n", "x.csv")
    with pytest.raises(InvalidInput) as caught:
        sheets.validate_rows(rows, MEMBERS.get)
    assert list(caught.value.errors) == ["row 2._row"]


def test_row_limit_csv():
    line = "11,badge_wearing,2025-06-01\n"
    assert len(sheets.parse(("member_id,kind,occurred_on\n" + line * 5000).encode(), "x.csv")) == 5000
    assert "more than 5000" in refused_file(("member_id,kind,occurred_on\n" + line * 5001).encode(), "x.csv")


def test_row_limit_xlsx(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_ROWS", 20)
    content = xlsx([["member_id", "kind", "occurred_on"]] + [[11, "badge_wearing", "2025-06-01"]] * 20)
    assert len(sheets.parse(content, "x.xlsx")) == 20
    content = xlsx([["member_id", "kind", "occurred_on"]] + [[11, "badge_wearing", "2025-06-01"]] * 21)
    assert "more than 20" in refused_file(content, "x.xlsx")


def test_empty_xlsx():
    assert "empty" in refused_file(xlsx([]), "x.xlsx")


def test_template_round_trip():
    template = sheets.template_csv()
    assert template.startswith(b"\xef\xbb\xbf")
    header = template.decode("utf-8-sig").strip().split(",")
    assert header[:3] == ["resident_id", "kind", "occurred_on"]
    assert set(header[3:]) == set(schemas.KIND_SPECIFIC)
    filled = template + f"{ALICE},study,2025-06-01,,,,,是,,\r\n".encode()
    loaded = sheets.validate_rows(sheets.parse(filled, "t.csv"), MEMBERS.get)
    assert loaded[0]["attended"] is True and loaded[0]["member_id"] == 11
