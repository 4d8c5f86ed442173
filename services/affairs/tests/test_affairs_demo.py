"""The demo county's year of matters: the plan (pure) and the load (PostgreSQL and SQLite),
which runs twice without duplicating anything."""
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from services.affairs import demo, powerlist, publication
from services.affairs.demo_loader import load_live
from services.affairs.models import Matter, PublishedRecord, StepRecord, Violation
from services.affairs.service import AffairsService
from shared import migrate
from tests.support.fixtures import make_config

RULES = powerlist.settings({})
TODAY = date(2026, 11, 20)


def villages(n, townships=10):
    return [{"id": 100 + v, "name": f"第{v}村党支部", "township_id": 1 + v % townships}
            for v in range(n)]


def test_a_year_of_770_matters_across_327_villages():
    scripts = demo.plan(villages(327), TODAY, RULES)
    assert len(scripts) == 770
    assert len({s["proposal"]["branch_id"] for s in scripts}) == 327
    days = [s["proposal"]["proposed_on"] for s in scripts]
    assert min(days) >= date(2025, 11, 20) and max(days) < TODAY
    reached = Counter(s["reached"] for s in scripts)
    assert reached["completed"] > 400 and reached["executing"] > 50 and reached["ended"] > 0
    happened = [d for s in scripts for action, d in s["actions"] if action == "step" and d["as_happened"]]
    assert 10 < len(happened) < 80
    every_day = [d.get("on") or d.get("raised_on") or d.get("answered_on")
                 for s in scripts for _, d in s["actions"]]
    assert max(every_day) < TODAY
    assert demo.plan(villages(327), TODAY, RULES) == scripts


class FakeMembers:
    """What ``load_live`` asks the members service, for a small county."""

    def __init__(self, n):
        self.units = [{"id": t, "parent_id": None, "township_id": t, "kind": "township_committee",
                       "name": f"第{t}镇党委"} for t in (1, 2)]
        self.units += [{"id": 100 + v, "parent_id": 1 + v % 2, "township_id": 1 + v % 2,
                        "kind": "village_branch", "name": f"第{v}村党支部"} for v in range(n)]
        self.units.append({"id": 99, "parent_id": 1, "township_id": 1,
                           "kind": "community_branch", "name": "渤海路社区党支部"})

    def list_townships(self):
        return [u for u in self.units if u["kind"] == "township_committee"]

    def list_subtree(self, root_id):
        return [u for u in self.units if u["township_id"] == root_id]


class FakeCluster:
    def __init__(self, n):
        self.members = FakeMembers(n)


def test_the_demo_loads_once_with_consistent_records(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    config = make_config("amqp://unused", {"affairs": url})
    config["affairs"] = {"evidence": {"folder": str(tmp_path)}}
    summary = load_live(config, FakeCluster(24), scale=0.08)
    assert summary["matters"] == 62 and summary["villages"] == 24
    assert sum(summary["by_status"].values()) == 62
    assert load_live(config, FakeCluster(24), scale=0.08) is None

    store = AffairsService.store.handle(url)
    table = store.outbox_table
    with store.reading() as session:
        def events(kind):
            return session.scalar(select(func.count()).select_from(table).where(table.c.type == kind))

        def rows(model, *where):
            return session.scalar(select(func.count()).select_from(model).where(*where))

        assert events("matter_proposed") == rows(Matter) == 62
        assert events("matter_completed") == rows(Matter, Matter.status == "completed")
        assert events("matter_published") == rows(PublishedRecord) > 0
        assert events("matter_step_recorded") == rows(StepRecord)
        assert events("procedure_violation_detected") == rows(Violation)
        assert rows(Matter, Matter.branch_id == 99) == 0
        for branch_id in session.scalars(select(Matter.branch_id).distinct()):
            assert publication.verify(session, branch_id)["holds"], branch_id
