"""Measures on a known data set (pure) and their files."""
import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from services.tickets import export, measures
from services.tickets.measures import Resolved


def test_percentiles_interpolate_like_a_spreadsheet():
    assert measures.percentile([], 50) is None
    assert measures.percentile([4], 90) == 4
    assert measures.percentile([0, 1, 2, 3, 10], 50) == 2
    assert measures.percentile([0, 1, 2, 3, 10], 90) == Decimal("7.2")
    assert measures.percentile([3, 1], 50) == 2


def test_the_known_data_set():
    resolved = [
        Resolved("village", 0, True, 5), Resolved("village", 1, True, 4),
        Resolved("village", 2, False, None), Resolved("township", 3, True, 2),
        Resolved("city", 10, False, 5),
    ]
    found = measures.summarise(7, resolved)
    assert found == {
        "opened": 7, "resolved": 5,
        "settled_in_village": "0.6000", "settled_in_township": "0.8000",
        "settled_at_township_level": "0.2000",
        "resolve_days_median": "2.0", "resolve_days_p90": "7.2",
        "on_time": "0.6000", "rated": 4, "satisfaction": "4.00", "satisfied": "0.7500",
    }
    assert list(found) == list(measures.FIELDS)


def test_nothing_measured_is_none_not_zero():
    found = measures.summarise(3, [])
    assert found["opened"] == 3 and found["resolved"] == 0
    assert found["settled_in_village"] is None and found["resolve_days_p90"] is None
    assert found["satisfaction"] is None and found["satisfied"] is None


def test_csv_and_xlsx_carry_the_same_rows():
    rows = [{"scope": "county", "scope_id": None, "name": "全县（市）", "township_id": None,
             **measures.summarise(2, [Resolved("village", 1, True, 5)])},
            {"scope": "station", "scope_id": 30, "name": "前辛庄村便民服务站", "township_id": 2,
             **measures.summarise(0, [])}]
    text = export.to_csv(rows).decode("utf-8")
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert read[0] == list(export.HEADER)
    assert read[1][:5] == ["county", "", "全县（市）", "", "2"] and read[1][6] == "1.0000"
    assert read[2][2] == "前辛庄村便民服务站" and read[2][6] == ""
    book = load_workbook(io.BytesIO(export.to_xlsx(rows, "测评")))
    sheet = book["measures"]
    values = list(sheet.values)
    assert values[0][0] == "测评" and list(values[1]) == list(export.HEADER)
    assert values[2][6] == 1.0 and values[3][2] == "前辛庄村便民服务站" and values[3][6] is None
