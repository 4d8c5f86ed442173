"""A township secretary's lists and projects on a real session (PostgreSQL and SQLite), the
overdue lists, and the timer that publishes rectification_overdue once per item."""
from datetime import date

import pytest
from nameko.testing.services import worker_factory

from services.talent import duties, posts
from services.talent.clock import FixedClock
from services.talent.service import TalentService
from shared.errors import Conflict, InvalidInput
from talent_helpers import DAY, SETTINGS, TOWN, events, person, store  # noqa: F401


@pytest.fixture
def secretary(store):
    cadre = person(store, member_id=105)
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": cadre["id"], "role": "township_secretary",
                                "unit_id": TOWN, "started_on": date(2025, 1, 1), "ends_on": None,
                                "reason": "换届", "sent_by": None}, SETTINGS)
    return cadre


def item(store, kind, title, deadline, created_on=date(2026, 2, 1), problem_id=None):
    with store.transaction() as session:
        return duties.add_item(session, {"township_id": TOWN, "list_kind": kind, "title": title,
                                         "owner": "张强", "deadline": deadline,
                                         "problem_id": problem_id, "created_on": created_on}, DAY)


def move(store, item_id, status, on):
    with store.transaction() as session:
        return duties.set_status(session, {"item_id": item_id, "status": status, "on": on}, DAY)


def test_items_belong_to_the_sitting_secretary_and_a_rectification_answers_a_problem(store):
    with pytest.raises(Conflict, match="no township secretary"):
        item(store, "responsibility", "党建责任制", date(2026, 12, 31))
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": person(store, member_id=105)["id"],
                                "role": "township_secretary", "unit_id": TOWN,
                                "started_on": date(2025, 1, 1), "ends_on": None, "reason": "换届",
                                "sent_by": None}, SETTINGS)
    problem = item(store, "problem", "组织生活不规范", date(2026, 6, 30))
    fix = item(store, "rectification", "规范三会一课记录", date(2026, 6, 30), problem_id=problem["id"])
    assert fix["problem_id"] == problem["id"] and fix["overdue"] and fix["days_overdue"] == 150
    with pytest.raises(InvalidInput):
        item(store, "responsibility", "x", date(2026, 6, 30), problem_id=problem["id"])
    with pytest.raises(InvalidInput):
        item(store, "rectification", "x", date(2026, 6, 30), problem_id=fix["id"])
    with pytest.raises(InvalidInput):
        item(store, "rectification", "x", date(2026, 1, 1))          # deadline before it was added


def test_the_lists_overdue_items_and_status_moves(store, secretary):
    late = item(store, "rectification", "活动场所改造", date(2026, 9, 30))
    done = item(store, "rectification", "储备后备干部", date(2026, 10, 31))
    item(store, "responsibility", "党建责任制", date(2026, 12, 31))
    move(store, done["id"], "in_progress", date(2026, 5, 1))
    assert move(store, done["id"], "done", date(2026, 10, 20))["on_time"]
    with pytest.raises(Conflict, match="not reopened"):
        move(store, done["id"], "open", date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        move(store, late["id"], "done", date(2026, 12, 1))            # in the future
    with store.reading() as session:
        lists = duties.lists_of(session, secretary["id"], 2026, DAY)
        overdue = duties.overdue(session, DAY)
    assert lists["counts"]["rectification"] == {"items": 2, "done": 1, "overdue": 1}
    assert [i["id"] for i in lists["overdue"]] == [late["id"]]
    assert overdue["items"] == 1 and overdue["secretaries"][0]["cadre_id"] == secretary["id"]


def test_projects_are_led_by_the_secretary_and_move_to_completed(store, secretary):
    with store.transaction() as session:
        project = duties.add_project(session, {"township_id": TOWN, "name": "红色网格",
                                               "goal": None, "started_on": date(2026, 3, 1)})
        duties.set_project_status(session, {"project_id": project["id"], "status": "completed",
                                            "on": date(2026, 10, 1)})
        with pytest.raises(Conflict, match="was completed"):
            duties.set_project_status(session, {"project_id": project["id"],
                                                "status": "underway", "on": date(2026, 10, 2)})
    with store.reading() as session:
        [found] = duties.lists_of(session, secretary["id"], None, DAY)["projects"]
    assert (found["status"], found["completed_on"]) == ("completed", "2026-10-01")


def test_the_timer_publishes_each_overdue_rectification_once_by_its_clock(store, secretary):
    late = item(store, "rectification", "活动场所改造", date(2026, 11, 20))
    item(store, "rectification", "储备后备干部", date(2026, 11, 30))
    item(store, "problem", "组织生活不规范", date(2026, 10, 1))       # overdue, not a rectification
    service = worker_factory(TalentService, store=store, clock=FixedClock(date(2026, 11, 27)))
    assert service.publish_overdue_rectifications() == 1
    assert service.publish_overdue_rectifications() == 0
    [overdue] = events(store, "rectification_overdue")
    assert overdue == {"item_id": late["id"], "cadre_id": secretary["id"], "member_id": 105,
                       "township_id": TOWN, "branch_id": None, "title": "活动场所改造",
                       "owner": "张强", "deadline": "2026-11-20", "problem_id": None,
                       "days_overdue": 7, "occurred_on": "2026-11-27"}
    later = worker_factory(TalentService, store=store, clock=FixedClock(date(2026, 12, 2)))
    assert later.publish_overdue_rectifications() == 1
    assert len(events(store, "rectification_overdue")) == 2
