"""The annual assessment on a real session (PostgreSQL and SQLite): Service Stars learned from
the stars service's closings, review votes, rectification on time, assessment_completed."""
from datetime import date

import pytest

from services.talent import assessments, duties, posts
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, NotFound
from talent_helpers import DAY, OTHER_TOWN, SETTINGS, TOWN, events, person, store  # noqa: F401


def closed(period, committees, kind="quarter_closed"):
    data = {"period": period, "closed_at": "2026-11-20T02:00:00+00:00", "closed_by": "组织部",
            "rulebook_version": "2026.1", "counts": [], "committees": committees}
    if kind == "year_closed":
        data["model_stars"] = {"member": 0, "branch": 0, "committee": 0}
    return Envelope(kind, "stars", data)


def committee(committee_id, level, score="30.00", rank=1):
    return {"committee_id": committee_id, "score": score, "level": level, "rank": rank,
            "vetoes": [], "model_star": None}


@pytest.fixture
def secretary(store):
    cadre = person(store, member_id=105)
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": cadre["id"], "role": "township_secretary",
                                "unit_id": TOWN, "started_on": date(2025, 1, 1), "ends_on": None,
                                "reason": "换届", "sent_by": None}, SETTINGS)
        item = duties.add_item(session, {"township_id": TOWN, "list_kind": "rectification",
                                         "title": "活动场所改造", "owner": "张强",
                                         "deadline": date(2026, 9, 30), "problem_id": None,
                                         "created_on": date(2026, 2, 1)}, DAY)
        duties.set_status(session, {"item_id": item["id"], "status": "done",
                                    "on": date(2026, 9, 28)}, DAY)
    return cadre


def votes(store, cadre_id, excellent=30, good=10):
    with store.transaction() as session:
        return assessments.record_votes(session, {"cadre_id": cadre_id, "year": 2026,
                                                  "excellent": excellent, "good": good, "fair": 0,
                                                  "poor": 0, "entered_by": "组织部 李明"}, DAY)


def test_closings_are_kept_once_per_committee_and_period(store):
    event = closed("2026-Q3", [committee(TOWN, 4, "34.50", 2), committee(OTHER_TOWN, 2)])
    with store.transaction() as session:
        assessments.learn_closing(session, event)
        assessments.learn_closing(session, closed("2026-Q3", [committee(TOWN, 1)]))
    with store.reading() as session:
        [kept] = assessments.service_stars(session, TOWN, 2026)
    assert (kept["period"], kept["level"], str(kept["score"]), kept["rank"]) == ("2026-Q3", 4, "34.50", 2)
    with store.transaction() as session:
        assessments.learn_closing(session, closed("2026", [committee(TOWN, 5, "150.00")],
                                                  kind="year_closed"))
    with store.reading() as session:
        kept = assessments.service_stars(session, TOWN, 2026)
    assert [(s["period"], s["level"]) for s in kept] == [("2026", 5), ("2026-Q3", 4)]


def test_a_closed_year_decides_the_service_star_over_its_quarters(store, secretary):
    with store.transaction() as session:
        assessments.learn_closing(session, closed("2026-Q3", [committee(TOWN, 2)]))
        assessments.learn_closing(session, closed("2026", [committee(TOWN, 5, "150.00")],
                                                  kind="year_closed"))
    with store.reading() as session:
        found = assessments.preview(session, secretary["id"], 2026, DAY, SETTINGS.assessment)
    [star] = [s for s in found["sources"] if s["source"] == "service_star"]
    assert star["score"] == "100.00" and star["explanation"].startswith("annual Service Star 2026: 5 stars")


def test_the_preview_says_what_is_missing_and_completion_waits_for_it(store, secretary):
    with store.reading() as session:
        found = assessments.preview(session, secretary["id"], 2026, DAY, SETTINGS.assessment)
    assert {m["source"] for m in found["missing"]} == {"service_star", "review_votes"}
    assert found["total"] is None
    with store.transaction() as session:
        with pytest.raises(Conflict, match="lacks: service_star"):
            assessments.complete(session, secretary["id"], 2026, "组织部", DAY, SETTINGS.assessment)


def test_a_completed_assessment_uses_the_service_star_received_and_is_published(store, secretary):
    with store.transaction() as session:
        assessments.learn_closing(session, closed("2026-Q3", [committee(TOWN, 4)]))
    votes(store, secretary["id"], 20, 20)
    votes(store, secretary["id"])                                 # corrected: the last count holds
    with store.transaction() as session:
        done = assessments.complete(session, secretary["id"], 2026, "组织部 李明", DAY,
                                    SETTINGS.assessment)
    scores = {s["source"]: s for s in done["sources"]}
    star = scores["service_star"]
    assert star["score"] == "90.00" and "2026-Q3 4 stars" in star["explanation"]
    assert scores["review_votes"]["score"] == "95.00"
    assert scores["rectification_on_time"]["score"] == "100.00"
    # 0.4 x 90 + 0.4 x 95 + 0.2 x 100 = 94
    assert (done["total"], done["grade"]) == ("94.00", "优秀")
    [published] = events(store, "assessment_completed")
    assert (published["total"], published["grade"], published["township_id"]) == ("94.00", "优秀", TOWN)
    assert published["sources"][0]["explanation"] == scores["service_star"]["explanation"]
    with store.transaction() as session:
        with pytest.raises(Conflict, match="was completed"):
            assessments.complete(session, secretary["id"], 2026, "组织部", DAY, SETTINGS.assessment)
        with pytest.raises(Conflict, match="final"):
            votes(store, secretary["id"])
        assert assessments.get(session, secretary["id"], 2026)["grade"] == "优秀"
        with pytest.raises(NotFound):
            assessments.get(session, secretary["id"], 2025)


def test_only_a_township_secretary_is_assessed(store):
    cadre = person(store, member_id=101)
    with store.reading() as session:
        with pytest.raises(Conflict, match="no township secretary in 2026"):
            assessments.preview(session, cadre["id"], 2026, DAY, SETTINGS.assessment)
