"""Training bases, courses, sessions and attendance on a real session (PostgreSQL and SQLite):
training_attended carries the member's place for the stars rulebook; hours per cadre per year."""
from datetime import date
from decimal import Decimal

import pytest

from services.talent import posts, training
from shared.errors import Conflict, InvalidInput, NotFound
from talent_helpers import DAY, SETTINGS, TOWN, events, person, store  # noqa: F401


@pytest.fixture
def held(store):
    with store.transaction() as session:
        base = training.add_base(session, {"name": "黄骅市委党校", "location": "渤海路",
                                           "township_id": None})
        course = training.add_course(session, {"title": "冬枣提质增效现场教学", "mode": "field",
                                               "hours": Decimal("4.0"), "township_id": None})
        return training.add_session(session, {"course_id": course["id"], "base_id": base["id"],
                                              "held_on": date(2026, 10, 18), "hours": None})


def attend(store, session_id, cadre_ids, hours=None):
    with store.transaction() as session:
        return training.record_attendance(session, {"session_id": session_id,
                                                    "cadre_ids": cadre_ids, "hours": hours}, DAY)


def test_attendance_publishes_training_attended_with_the_members_place(store, held):
    member = person(store, member_id=101)
    leader = person(store, name="孙立")
    first_secretary = person(store, member_id=105)["id"]
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": first_secretary, "role": "first_secretary",
                                "unit_id": 13, "started_on": date(2026, 1, 1), "ends_on": None,
                                "reason": "选派", "sent_by": "township"}, SETTINGS)
    recorded = attend(store, held["id"], [member["id"], leader["id"], first_secretary])
    assert recorded["hours"] == "4.0" and len(recorded["attendance"]) == 3
    found = {e["cadre_id"]: e for e in events(store, "training_attended")}
    assert found[member["id"]] == {
        "attendance_id": recorded["attendance"][0]["id"], "session_id": held["id"],
        "course_id": held["course_id"], "base_id": held["base_id"], "cadre_id": member["id"],
        "member_id": 101, "branch_id": 12, "township_id": TOWN, "category": "rural",
        "mode": "field", "hours": "4.0", "occurred_on": "2026-10-18"}
    assert (found[leader["id"]]["member_id"], found[leader["id"]]["branch_id"]) == (None, None)
    # a first secretary from an institution branch: the member's own place, not the village's
    assert (found[first_secretary]["branch_id"], found[first_secretary]["category"]) == (40, "institution")


def test_attendance_is_recorded_once_and_only_for_a_session_that_took_place(store, held):
    cadre = person(store, member_id=101)
    attend(store, held["id"], [cadre["id"]], hours=Decimal("2.5"))
    with pytest.raises(Conflict, match="recorded already"):
        attend(store, held["id"], [cadre["id"]])
    with pytest.raises(NotFound):
        attend(store, held["id"], [999])
    with pytest.raises(InvalidInput):
        attend(store, held["id"], [person(store, member_id=102)["id"]], hours=Decimal(5))
    with store.transaction() as session:
        future = training.add_session(session, {"course_id": held["course_id"],
                                                "base_id": held["base_id"],
                                                "held_on": date(2026, 12, 5), "hours": Decimal(2)})
    with pytest.raises(Conflict, match="once it took place"):
        attend(store, future["id"], [cadre["id"]])
    with store.transaction() as session:
        with pytest.raises(Conflict, match="named 黄骅市委党校 already"):
            training.add_base(session, {"name": "黄骅市委党校", "location": "x", "township_id": None})


def test_hours_per_cadre_per_year_flag_the_secretaries_short_of_the_requirement(store, held):
    trained, untrained = person(store, member_id=101), person(store, member_id=102)
    for cadre, unit in ((trained, 12), (untrained, 13)):
        with store.transaction() as session:
            posts.appoint(session, {"cadre_id": cadre["id"], "role": "village_secretary",
                                    "unit_id": unit, "started_on": date(2025, 1, 1),
                                    "ends_on": None, "reason": "换届", "sent_by": None}, SETTINGS)
    attend(store, held["id"], [trained["id"]])
    with store.reading() as session:
        report = training.hours_report(session, 2026, TOWN, Decimal(4))
        last_year = training.hours_report(session, 2025, None, Decimal(4))
    rows = {r["cadre_id"]: r for r in report["rows"]}
    assert (rows[trained["id"]]["hours"], rows[trained["id"]]["met"]) == ("4.0", True)
    assert (rows[untrained["id"]]["hours"], rows[untrained["id"]]["shortfall"]) == ("0", "4")
    assert report["short"] == 1 and report["total_hours"] == "4.0"
    assert last_year["total_hours"] == "0" and last_year["short"] == 2
