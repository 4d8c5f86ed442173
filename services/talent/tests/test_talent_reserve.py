"""The reserve cadre pool and a vacancy's shortlist on a real session (PostgreSQL and SQLite),
with the stars answer given (the service asks the stars service for it)."""
from datetime import date

import pytest

from services.talent import posts, reserve, shortlist
from services.talent.shortlist import Answer
from shared.errors import Conflict, InvalidInput, NotFound
from talent_helpers import DAY, SETTINGS, TOWN, person, store  # noqa: F401


def add(store, cadre_id, village_id=12, township_id=TOWN, added_on=date(2026, 1, 5)):
    with store.transaction() as session:
        return reserve.add(session, {"cadre_id": cadre_id, "township_id": township_id,
                                     "village_id": village_id, "added_on": added_on,
                                     "note": "村委会委员"})


def test_the_pool_takes_each_candidate_once_and_lets_them_go_with_a_reason(store):
    cadre = person(store, member_id=101)
    entry = add(store, cadre["id"])
    assert entry["state"] == "active" and entry["village_id"] == 12
    with pytest.raises(Conflict, match="in the pool already"):
        add(store, cadre["id"])
    with pytest.raises(InvalidInput) as refused:
        add(store, person(store, member_id=107)["id"], village_id=31)
    assert "is not in 旧城镇党委" in refused.value.errors["village_id"][0]
    with store.transaction() as session:
        gone = reserve.withdraw(session, cadre["id"], date(2026, 6, 1), "外出务工")
    assert (gone["state"], gone["left_reason"]) == ("withdrawn", "外出务工")
    with store.transaction() as session:
        with pytest.raises(NotFound):
            reserve.withdraw(session, cadre["id"], date(2026, 6, 2), "again")
    assert add(store, cadre["id"])["state"] == "active"


def test_a_shortlist_needs_a_vacancy_and_reads_the_townships_pool(store):
    secretary = person(store, member_id=102)
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": secretary["id"], "role": "village_secretary",
                                "unit_id": 13, "started_on": date(2024, 1, 1), "ends_on": None,
                                "reason": "换届", "sent_by": None}, SETTINGS)
    young = person(store, member_id=101, name="李强", birth_date=date(1994, 3, 1),
                   experience_years=5)
    probationary = person(store, member_id=103, name="赵敏")
    activist = person(store, name="孙立", birth_date=date(1990, 1, 1))
    far = person(store, member_id=107, name="马海")
    for cadre in (young, probationary, activist, secretary):
        add(store, cadre["id"])
    add(store, far["id"], village_id=31, township_id=3)
    rules = SETTINGS.shortlist
    with store.reading() as session:
        with pytest.raises(Conflict, match="has a village secretary"):
            reserve.vacancy(session, 13, DAY)
        vacancy = reserve.vacancy(session, 12, DAY)
        found = reserve.candidates(session, vacancy["township_id"], rules.scope, DAY)
    assert vacancy["state"] == "no village secretary recorded"
    assert {c["cadre_id"] for c in found} == {young["id"], probationary["id"], activist["id"],
                                              secretary["id"]}
    answer = shortlist.shortlist(found, vacancy, rules, DAY,
                                 Answer(True, "2026-Q4", {101: 4, 103: 5, 102: 5}))
    assert [c["cadre_id"] for c in answer["shortlist"]] == [young["id"]]
    why = {c["cadre_id"]: c["why_not"] for c in answer["excluded"]}
    assert "probationary_member" in why[probationary["id"]][0]
    assert any("not a Party member" in r for r in why[activist["id"]])
    assert any("already holds a post: village_secretary of 后辛庄村党支部" in r
               for r in why[secretary["id"]])
    with store.reading() as session:
        county = reserve.candidates(session, TOWN, "county", DAY)
    assert far["id"] in {c["cadre_id"] for c in county}


def test_appointing_a_candidate_takes_them_out_of_the_pool(store):
    cadre = person(store, member_id=101)
    add(store, cadre["id"])
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": cadre["id"], "role": "village_secretary",
                                "unit_id": 12, "started_on": date(2026, 11, 1), "ends_on": None,
                                "reason": "从后备干部中选任", "sent_by": None}, SETTINGS)
    with store.reading() as session:
        assert reserve.candidates(session, TOWN, "township", DAY) == []
        listed = reserve.listing(session, TOWN, 0, 10, DAY)
    assert listed["total"] == 0
