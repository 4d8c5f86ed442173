"""End to end through the real RabbitMQ, with members, stars and affairs running (PostgreSQL and
SQLite): affairs learns the village from members' events, and its events change the branch's
Fortress Star by the rulebook's entries alone: a matter completed by the procedure earns points,
a minor violation deducts, a major one is the veto."""
from datetime import timedelta
from decimal import Decimal

import pytest

from affairs_walk import TODAY, Walk, ago, meeting, proposal
from services.affairs.service import AffairsService
from services.members.service import MembersService
from services.stars import periods
from services.stars.service import StarsService
from shared import migrate
from shared.bus.rpc import rpc_client
from shared.errors import Conflict, NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

pytestmark = pytest.mark.integration

DAY = 3                                              # days ago: every scored fact happens then
MONTH = periods.month_key(TODAY - timedelta(days=DAY))
SCHEDULE = {"proposal": 25, "joint_meeting": 24, "party_assembly": 23, "villagers_assembly": 22,
            "resolution_published": 21, "execution": 14, "implementation_published": 11,
            "acceptance": DAY}


@pytest.fixture
def config(amqp_uri, db_url_factory, tmp_path):
    urls = {name: db_url_factory() for name in ("members", "stars", "affairs")}
    for cls in (MembersService, StarsService, AffairsService):
        migrate.upgrade(cls, urls[cls.name])
    config = make_config(amqp_uri, urls)
    config["affairs"] = {"evidence": {"folder": str(tmp_path / "evidence")}}
    return config


def branch_score(stars, branch_id):
    try:
        return stars.score("branch", branch_id, MONTH)
    except NotFound:
        return None


def score_becomes(stars, branch_id, expected):
    def check():
        found = branch_score(stars, branch_id)
        return found if found and Decimal(found["score"]) == Decimal(expected) else False
    return wait_for(check, timeout=20, message=f"branch {branch_id} {MONTH} score {expected}")


def village_known(affairs, village_id):
    def propose():
        try:
            return Walk(affairs, branch_id=village_id, proposed_on=ago(SCHEDULE["proposal"]))
        except NotFound:
            return None
    return wait_for(propose, timeout=15, message="the village learned from members' event")


def walk_to(walk, last):
    steps = walk.matter["procedure_steps"]
    for name in steps[1:steps.index(last) + 1]:
        if name == "implementation_published":
            walk.finish_execution(days_ago=12, halfway_days_ago=13)
        if name == "acceptance":
            walk.sign_all(days_ago=DAY + 1)
        walk.step(name, days_ago=SCHEDULE[name])


def test_violations_lower_the_branch_and_a_completed_matter_raises_it(config):
    with services_running(config, MembersService, StarsService, AffairsService), \
            rpc_client(config) as cluster:
        city = cluster.members.create_org_unit({"name": "黄骅市委", "kind": "city_committee",
                                                "parent_id": None})
        town = cluster.members.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                                "parent_id": city["id"]})
        village = cluster.members.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch",
                                                   "parent_id": town["id"]})["id"]
        affairs, stars = cluster.affairs, cluster.stars

        completed = village_known(affairs, village)
        walk_to(completed, "acceptance")
        assert completed.matter["status"] == "completed" and completed.matter["violations"] == []
        score_becomes(stars, village, "1")                   # branch-major-matter-completed

        short = Walk(affairs, branch_id=village, proposed_on=ago(SCHEDULE["proposal"]))
        walk_to(short, "villagers_assembly")
        short.step("resolution_published", days_ago=DAY, notice_days=3, as_happened=True)
        [violation] = short.matter["violations"]
        assert (violation["kind"], violation["severity"]) == ("notice_period_short", "minor")
        lowered = score_becomes(stars, village, "-1")        # 1 - 2: branch-major-matter-irregularity
        assert lowered["vetoes"] == []
        explained = stars.explain("branch", village, MONTH)
        assert {i["item"]: i["points"] for i in explained["items"]} == {
            "major_matter_procedure": "1.00", "major_matter_irregularity": "-2.00"}
        assert {(e["source"], e["event_type"]) for e in explained["entries"]} == {
            ("affairs", "matter_completed"), ("affairs", "procedure_violation_detected")}

        early = Walk(affairs, branch_id=village, proposed_on=ago(SCHEDULE["proposal"]))
        walk_to(early, "villagers_assembly")
        early.step("execution", days_ago=DAY, as_happened=True)
        vetoed = wait_for(lambda: (lambda s: s if s and s["vetoes"] else False)(
            branch_score(stars, village)), timeout=20, message="the veto")
        assert vetoed["vetoes"] == ["major_matter_violation"] and vetoed["level"] == 0

        refused_before = affairs.counts({"level": "village"})["totals"]["total"]
        with pytest.raises(Conflict) as refused:
            Walk(affairs, branch_id=village, proposed_on=ago(1), **meeting(5, 2, 2))
        assert "no quorum" in str(refused.value)
        assert affairs.counts({"level": "village"})["totals"]["total"] == refused_before == 3

        with rpc_client(config, idempotency_key="matter-4") as keyed:    # a retried request
            payload = {**proposal(branch_id=village), "proposed_on": ago(2)}
            first = keyed.affairs.propose_matter(payload)
            assert keyed.affairs.propose_matter(payload)["id"] == first["id"]
        assert affairs.counts({"level": "village"})["totals"]["total"] == 4
