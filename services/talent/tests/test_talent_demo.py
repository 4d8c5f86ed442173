"""The demo county's three teams: generated deterministically on top of the members service's
county (a fake ``cluster`` here; the integration test asks the real one), loaded once."""
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from services.talent import demo, demo_loader
from services.talent.models import Attendance, Cadre, Cooperative, Post
from services.talent.service import TalentService
from shared import migrate
from tests.support.fixtures import make_config

TODAY = date(2026, 11, 27)


class Reply:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class FakeMembers:
    """A city, two townships with four villages each, two institution branches, 20 members in
    each branch."""

    def __init__(self):
        self.units = [{"id": 1, "parent_id": None, "township_id": None, "kind": "city_committee",
                       "name": "黄骅市委", "dissolved_on": None}]
        for t in (2, 3):
            self.units.append({"id": t, "parent_id": 1, "township_id": t,
                               "kind": "township_committee", "name": f"镇{t}", "dissolved_on": None})
            self.units += [{"id": t * 10 + v, "parent_id": t, "township_id": t,
                            "kind": "village_branch", "name": f"村{t}{v}党支部", "dissolved_on": None}
                           for v in range(4)]
        self.units += [{"id": 90 + i, "parent_id": 1, "township_id": None,
                        "kind": "institution_branch", "name": f"机关{i}", "dissolved_on": None}
                       for i in range(2)]
        self.list_members = self

    def list_townships(self):
        return [u for u in self.units if u["kind"] == "township_committee"]

    def list_subtree(self, root_id):
        assert root_id == 1
        return self.units

    def call_async(self, branch_id, state, offset, limit):
        category = "rural" if branch_id < 90 else "institution"
        return Reply([{"id": branch_id * 100 + n, "branch_id": branch_id, "name": f"党员{n}",
                       "gender": "male", "birth_date": f"{1965 + n}-03-0{1 + n % 9}",
                       "education": "associate", "category": category, "status": "full",
                       "state": "active"} for n in range(min(limit, 20))])


class FakeCluster:
    members = FakeMembers()


def test_the_generator_is_deterministic_and_fills_every_part():
    cluster = FakeCluster()
    units, members_of = demo_loader.fetch(cluster)
    first = demo.generate(units, members_of, TODAY, scale=0.02)
    again = demo.generate(units, members_of, TODAY, scale=0.02)
    assert first.people == again.people and first.attendance == again.attendance
    roles = Counter(p["post"]["role"] for p in first.people if p["post"])
    assert roles["township_secretary"] == 2 and 6 <= roles["village_secretary"] <= 8
    assert first.summary()["reserve_candidates"] == round(813 * 0.02)
    assert first.summary()["wealth_leaders"] == round(596 * 0.02)
    assert len(first.cooperatives) == round(182 * 0.02)
    held = [s["held_on"] for s in first.sessions]
    assert min(held) >= date(2025, 11, 28) and max(held) < TODAY
    ids = [p["profile"]["member_id"] for p in first.people if p["profile"]["member_id"]]
    assert len(ids) == len(set(ids)), "a member is one person"
    for person in first.people:
        if person["post"] and person["post"]["role"] == "first_secretary":
            assert person["post"]["sent_by"] == ("city" if any(
                s["village_id"] == person["post"]["unit_id"] for s in first.statuses) else "township")


def test_it_loads_once_with_its_events(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(TalentService, url)
    config = make_config("amqp://unused", {"talent": url})
    summary = demo_loader.load_live(TalentService, config, FakeCluster(), 0.05, today=TODAY)
    assert summary["township_secretary"] == 2 and summary["attendance"] > 0
    assert demo_loader.load_live(TalentService, config, FakeCluster(), 0.05, today=TODAY) is None
    store = TalentService.store.handle(url)
    with store.reading() as session:
        counts = {model.__name__: session.scalar(select(func.count()).select_from(model))
                  for model in (Cadre, Post, Cooperative, Attendance)}
        outbox = dict(session.execute(select(store.outbox_table.c.type, func.count())
                                      .group_by(store.outbox_table.c.type)).all())
    assert counts["Post"] == sum(summary[r] for r in ("township_secretary", "village_secretary",
                                                     "first_secretary"))
    assert counts["Attendance"] == summary["attendance"] == outbox["training_attended"]
    assert outbox["cadre_appointed"] == counts["Post"]
    assert counts["Cooperative"] == summary["cooperatives"]


def test_a_deadlock_with_the_directory_subscription_is_written_again(db_url_factory,
                                                                      monkeypatch):
    from sqlalchemy.exc import OperationalError

    class Deadlock(Exception):
        pgcode = demo_loader.DEADLOCK
    url = db_url_factory()
    migrate.upgrade(TalentService, url)
    config = make_config("amqp://unused", {"talent": url})
    real_write, tries = demo_loader.write, []

    def write_failing_once(session, county, today):
        tries.append(1)
        real_write(session, county, today)
        if len(tries) == 1:
            raise OperationalError("INSERT INTO members", {}, Deadlock("deadlock detected"))
    monkeypatch.setattr(demo_loader, "write", write_failing_once)
    summary = demo_loader.load_live(TalentService, config, FakeCluster(), 0.05, today=TODAY)
    assert len(tries) == 2
    with TalentService.store.handle(url).reading() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == sum(
            summary[r] for r in ("township_secretary", "village_secretary", "first_secretary"))
