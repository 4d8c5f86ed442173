"""The first secretary coverage report (pure)."""
from datetime import date

from services.talent import coverage

DAY = date(2026, 11, 27)
CITY = ("weak", "special")
VILLAGES = [{"id": 12, "name": "前辛庄村党支部", "township_id": 2, "township": "旧城镇"},
            {"id": 13, "name": "后辛庄村党支部", "township_id": 2, "township": "旧城镇"},
            {"id": 14, "name": "齐家务村党支部", "township_id": 2, "township": "旧城镇"},
            {"id": 15, "name": "歧口村党支部", "township_id": 3, "township": "南排河镇"}]


def post(village, ends_on, sent_by="township", post_id=None):
    return {"post_id": post_id or village, "cadre_id": village * 10, "name": f"书记{village}",
            "unit_id": village, "sent_by": sent_by, "started_on": date(2025, 1, 1),
            "ends_on": ends_on}


def test_lists_villages_without_one_terms_ending_and_senders_that_no_longer_fit():
    posts = [post(12, date(2027, 1, 10)),                 # ends in 44 days
             post(13, date(2026, 11, 20), sent_by="township"),   # ended, still in post; 13 weak
             post(15, date(2027, 12, 31))]
    found = coverage.report(VILLAGES, posts, {13: "weak", 14: "special"}, DAY, 90, CITY)
    assert found["villages"] == 4 and found["covered"] == 3
    assert found["without_first_secretary"] == [
        {"village_id": 14, "village": "齐家务村党支部", "township_id": 2, "township": "旧城镇",
         "status": "special", "to_be_sent_by": "city"}]
    assert [(e["village_id"], e["days_left"]) for e in found["terms_ending"]] == [(13, -7), (12, 44)]
    assert "ended 7 days ago" in found["terms_ending"][0]["note"]
    assert found["terms_ending"][1]["ends_on"] == "2027-01-10"
    [mismatch] = found["sender_mismatches"]
    assert mismatch["village_id"] == 13 and "sent by the city" in mismatch["note"]


def test_the_window_decides_which_terms_are_listed():
    posts = [post(12, date(2027, 1, 10))]
    assert coverage.report(VILLAGES[:1], posts, {}, DAY, 30, CITY)["terms_ending"] == []
    assert len(coverage.report(VILLAGES[:1], posts, {}, DAY, 44, CITY)["terms_ending"]) == 1
