"""Measures per station, township and county on a known month of tickets, and the export, on a
real session (no broker), on PostgreSQL and SQLite."""
import base64
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from services.tickets import reports, scheduler
from shared.errors import InvalidInput, NotFound
from tickets_county import OTHER_TOWN, TOWN, at, build

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture(scope="function")
def county(db_url_factory):
    county = build(db_url_factory())

    def settle(ticket, opened, resolved, rating=None):
        county.act(ticket, "accept", opened)
        county.act(ticket, "resolve", resolved, outcome="办结")
        if rating:
            county.act(ticket, "rate", resolved, rating=rating)

    settle(county.open(at(2026, 10, 8)), at(2026, 10, 8), at(2026, 10, 9), 5)           # village, 1 day
    settle(county.open(at(2026, 10, 8)), at(2026, 10, 8), at(2026, 10, 8, 15), 4)       # village, 0 days
    settle(county.open(at(2026, 10, 8), "minimum_living"), at(2026, 10, 9), at(2026, 10, 14), 2)  # township, 5
    late = county.open(at(2026, 9, 29))                                                  # opened in September
    with county.tx() as session:
        scheduler.scan(session, county.settings, at(2026, 10, 10))                      # breached, escalated
    settle(late, at(2026, 10, 12), at(2026, 10, 12, 16))                                 # township, 5 days
    settle(county.open(at(2026, 10, 9), "legal_aid", station=county.other_station),
           at(2026, 10, 9), at(2026, 10, 20), 5)                                         # city, 8 days
    county.open(at(2026, 10, 12), station=county.far_station)                           # still open
    return county


def measure(county, scope, scope_id=None):
    with county.store.reading() as session:
        return reports.for_scope(session, scope, scope_id, *OCTOBER)


def test_county_measures(county):
    found = measure(county, "county")
    assert {k: found[k] for k in list(found)[5:]} == {
        "opened": 5, "resolved": 5, "settled_in_village": "0.4000", "settled_in_township": "0.8000",
        "settled_at_township_level": "0.4000", "resolve_days_median": "5.0",
        "resolve_days_p90": "6.8", "on_time": "0.8000", "rated": 4, "satisfaction": "4.00",
        "satisfied": "0.7500"}
    assert (found["date_from"], found["date_to"], found["scope_id"]) == ("2026-10-01", "2026-10-31", None)


def test_station_and_township_measures(county):
    station = measure(county, "station", county.station["id"])
    assert (station["name"], station["opened"], station["resolved"]) == ("前辛庄村党支部", 3, 4)
    assert (station["settled_in_village"], station["settled_in_township"]) == ("0.5000", "1.0000")
    assert (station["resolve_days_median"], station["resolve_days_p90"]) == ("3.0", "5.0")
    assert (station["on_time"], station["satisfaction"], station["satisfied"]) == ("0.7500", "3.67", "0.6667")
    town = measure(county, "township", TOWN)
    assert (town["name"], town["opened"], town["resolved"], town["settled_in_village"]) == \
        ("旧城镇党委", 4, 5, "0.4000")
    other = measure(county, "township", OTHER_TOWN)
    assert (other["opened"], other["resolved"], other["settled_in_village"]) == (1, 0, None)
    september = None
    with county.store.reading() as session:
        september = reports.for_scope(session, "county", None, date(2026, 9, 1), date(2026, 9, 30))
    assert (september["opened"], september["resolved"]) == (1, 0)


def test_refusals(county):
    with county.store.reading() as session:
        with pytest.raises(NotFound):
            reports.for_scope(session, "station", 4242, *OCTOBER)
        with pytest.raises(NotFound):
            reports.for_scope(session, "township", county.station["unit_id"], *OCTOBER)
        with pytest.raises(InvalidInput) as refused:
            reports.for_scope(session, "county", None, OCTOBER[1], OCTOBER[0])
        assert "date_to" in refused.value.errors
        with pytest.raises(InvalidInput):
            reports.for_scope(session, "county", None, date(2025, 1, 1), date(2026, 1, 2))


def test_the_export_has_the_county_townships_and_stations(county):
    with county.store.reading() as session:
        as_csv = reports.export_file(session, *OCTOBER, "csv")
        as_xlsx = reports.export_file(session, *OCTOBER, "xlsx")
    assert as_csv["filename"] == "tickets-measures-2026-10-01-2026-10-31.csv" and as_csv["rows"] == 6
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(as_csv["content_base64"]).decode("utf-8-sig"))))
    assert [(r["scope"], r["name"]) for r in rows] == [
        ("county", "全县（市）"), ("township", "旧城镇党委"), ("township", "羊二庄镇党委"),
        ("station", "前辛庄村党支部"), ("station", "后辛庄村党支部"), ("station", "王庄村党支部")]
    assert rows[0]["resolve_days_p90"] == "6.8" and rows[3]["satisfaction"] == "3.67"
    assert rows[4]["settled_in_village"] == "0.0000" and rows[5]["opened"] == "1"
    sheet = load_workbook(io.BytesIO(base64.b64decode(as_xlsx["content_base64"])))["measures"]
    values = list(sheet.values)
    assert len(values) == 2 + 6 and values[2][0] == "county" and values[2][10] == 6.8
