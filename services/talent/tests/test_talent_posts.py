"""Profiles, posts and first secretaries on a real session (PostgreSQL and SQLite): what the
directory learned, the appointment rules, the events, the coverage report."""
from datetime import date

import pytest

from services.talent import cadres, directory, posts
from shared.errors import Conflict, InvalidInput, NotFound
from talent_helpers import (DAY, SETTINGS, TOWN, events, member_event, person, store,  # noqa: F401
                            unit_event)


def appoint(store, cadre_id, role="village_secretary", unit_id=12, started_on=date(2026, 3, 1),
            **more):
    data = {"cadre_id": cadre_id, "role": role, "unit_id": unit_id, "started_on": started_on,
            "ends_on": None, "reason": "换届选举", "sent_by": None, **more}
    with store.transaction() as session:
        return posts.appoint(session, data, SETTINGS)


def test_a_profile_links_a_known_member_and_its_standing_follows_the_member_record(store):
    with pytest.raises(NotFound, match="no such member is known to talent yet"):
        person(store, member_id=999)
    linked = person(store, member_id=103)
    assert linked["standing"] == "probationary_member" and linked["age"] == 44
    with pytest.raises(Conflict, match="already has a profile"):
        person(store, member_id=103)
    with pytest.raises(InvalidInput) as refused:
        person(store, member_id=101, standing="activist")
    assert "standing" in refused.value.errors
    with store.transaction() as session:
        directory.learn(session, [member_event(103, 13, type_="member_status_changed",
                                               status="full")])
        assert cadres.profile(session, cadres.get(session, linked["id"]), DAY)["standing"] == "full_member"
        directory.learn(session, [member_event(103, 13, type_="member_left", reason="deceased",
                                               left_on="2026-11-01")])
        assert cadres.profile(session, cadres.get(session, linked["id"]), DAY)["standing"] == "former_member"


def test_the_directory_follows_renames_moves_and_transfers(store):
    with store.transaction() as session:
        directory.learn(session, [
            unit_event(14, 3, 3, "village_branch", "齐家务村", type_="org_unit_changed",
                       dissolved=False, change="moved"),
            member_event(101, 13, type_="member_transferred", from_branch_id=12, kind="transfer")])
        assert directory.unit(session, 14, "unit_id").township_id == 3
        assert directory.member(session, 101).branch_id == 13


def test_an_appointment_publishes_cadre_appointed_with_a_default_term(store):
    cadre = person(store, member_id=101)
    post = appoint(store, cadre["id"])
    assert post["ends_on"] == "2031-02-28" and post["held"] and post["unit"] == "前辛庄村党支部"
    [appointed] = events(store, "cadre_appointed")
    assert appointed == {"post_id": post["id"], "cadre_id": cadre["id"], "member_id": 101,
                         "name": "王建国", "role": "village_secretary", "unit_id": 12,
                         "branch_id": 12, "township_id": TOWN, "sent_by": None,
                         "started_on": "2026-03-01", "ends_on": "2031-02-28", "reason": "换届选举",
                         "occurred_on": "2026-03-01"}


def test_appointment_rules(store):
    a, b = person(store, member_id=101)["id"], person(store, member_id=102)["id"]
    with pytest.raises(InvalidInput) as refused:
        appoint(store, a, role="township_secretary", unit_id=12)
    assert "township_committee" in refused.value.errors["unit_id"][0]
    with pytest.raises(Conflict, match="full Party member"):
        appoint(store, person(store, member_id=103)["id"])
    with pytest.raises(Conflict, match="full Party member"):
        appoint(store, person(store)["id"])                       # not a member at all
    appoint(store, a)
    with pytest.raises(Conflict, match="remove them first"):
        appoint(store, b)
    with pytest.raises(Conflict, match="one post at a time"):
        appoint(store, a, role="first_secretary", unit_id=13, sent_by="township")
    with pytest.raises(NotFound):
        appoint(store, 999)


def test_a_removal_ends_the_term_publishes_cadre_removed_and_frees_the_post(store):
    a, b = person(store, member_id=101)["id"], person(store, member_id=102)["id"]
    post = appoint(store, a)
    with store.transaction() as session:
        with pytest.raises(InvalidInput):
            posts.remove(session, post["id"], date(2026, 2, 1), "调任")
    with store.transaction() as session:
        ended = posts.remove(session, post["id"], date(2026, 9, 30), "调任乡镇工作")
    assert ended["ended_on"] == "2026-09-30" and not ended["held"]
    with store.transaction() as session:
        with pytest.raises(Conflict, match="ended on 2026-09-30 already"):
            posts.remove(session, post["id"], date(2026, 10, 1), "again")
    [removed] = events(store, "cadre_removed")
    assert (removed["ended_on"], removed["end_reason"], removed["occurred_on"]) == (
        "2026-09-30", "调任乡镇工作", "2026-09-30")
    with pytest.raises(Conflict):
        appoint(store, b, started_on=date(2026, 9, 1))            # before the holder left
    assert appoint(store, b, started_on=date(2026, 10, 1))["held"]


def test_first_secretaries_are_sent_by_whom_the_village_status_says(store):
    a, b = person(store, member_id=105)["id"], person(store, member_id=106)["id"]
    with store.transaction() as session:
        posts.set_village_status(session, {"village_id": 13, "status": "weak",
                                           "reason": "软弱涣散", "decided_on": date(2026, 1, 10)})
        with pytest.raises(InvalidInput):
            posts.set_village_status(session, {"village_id": TOWN, "status": "weak",
                                               "reason": "x", "decided_on": DAY})
    with pytest.raises(Conflict, match="sent by the city"):
        appoint(store, a, role="first_secretary", unit_id=13, sent_by="township")
    appoint(store, a, role="first_secretary", unit_id=13, sent_by="city",
            started_on=date(2025, 1, 10))
    with pytest.raises(Conflict, match="sent by the township"):
        appoint(store, b, role="first_secretary", unit_id=12, sent_by="city")
    appoint(store, b, role="first_secretary", unit_id=12, sent_by="township",
            started_on=date(2026, 6, 1), ends_on=date(2028, 5, 31))
    with store.reading() as session:
        found = posts.first_secretary_coverage(session, DAY, SETTINGS)
    assert found["villages"] == 4 and found["covered"] == 2
    assert {v["village_id"] for v in found["without_first_secretary"]} == {14, 31}
    assert [(e["village_id"], e["ends_on"]) for e in found["terms_ending"]] == [(13, "2027-01-09")]
    assert found["sender_mismatches"] == []
