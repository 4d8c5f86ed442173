"""The stars service with the members service over the real RabbitMQ, on PostgreSQL and SQLite:
activity -> score -> star level -> ranking, revocation, duplicates, vetoes, closings, consequences,
a brand-new event type credited by a rulebook entry alone, and the demo county."""
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from marshmallow import Schema, fields
from nameko.rpc import rpc
from sqlalchemy import MetaData, func, select

from services.members import resident_id
from services.members.service import MembersService
from services.stars import periods
from services.stars.models import LedgerEntry, RulebookRun, ScoredEvent
from services.stars.service import StarsService
from shared import db
from shared.bus import topology
from shared.bus.rpc import rpc_client
from shared.bus.store import Store
from shared.config import ROOT
from shared.contracts.registry import contract
from shared.errors import Conflict, InvalidInput, NotFound
from shared.service import ServiceBase
from tests.support import broker
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy, publish_raw

pytestmark = pytest.mark.integration

TODAY = date.today()
DAY = TODAY - timedelta(days=2)          # activities happen in the current month (or just before)
MONTH, QUARTER, YEAR = periods.month_key(DAY), periods.quarter_key(DAY), periods.year_key(DAY)
STARS_QUEUES = [topology.partition_queue_name(topology.dynamic_queue_name("stars", "on_events"), i)
                for i in range(8)]


def drained(amqp_uri):
    return all(broker.queue_depth(amqp_uri, queue) == 0 for queue in STARS_QUEUES)


# -- a made-up service the stars code has never heard of -----------------------------------------

@contract("discipline", "sanction_imposed")
class SanctionImposed(Schema):
    """A discipline inspection body imposed a sanction on a member (test-only service)."""
    example = {"member_id": 1, "decided_on": "2026-11-20", "measure": "warning"}
    member_id = fields.Integer(required=True)
    decided_on = fields.Date(required=True)
    measure = fields.String(required=True)


@contract("discipline", "commendation_awarded")
class CommendationAwarded(Schema):
    """A member was commended (test-only service)."""
    example = {"member_id": 1, "decided_on": "2026-11-20", "grade": "county"}
    member_id = fields.Integer(required=True)
    decided_on = fields.Date(required=True)
    grade = fields.String(required=True)


discipline_metadata = MetaData()


class DisciplineService(ServiceBase):
    name = "discipline"
    publishes = ("sanction_imposed", "commendation_awarded")
    store = Store(discipline_metadata)

    @rpc
    def sanction(self, member_id, on):
        with self.store.transaction() as session:
            return session.publish("sanction_imposed", {"member_id": member_id, "decided_on": on,
                                                        "measure": "serious warning"}).id

    @rpc
    def commend(self, member_id, on, grade="county"):
        with self.store.transaction() as session:
            return session.publish("commendation_awarded", {"member_id": member_id,
                                                            "decided_on": on, "grade": grade}).id


def write_test_rulebook(folder, extra_rules=(), extra_items=None, version="2026.1-test", edit=None):
    """The default rulebook plus rules/items for the made-up service, written to ``folder``."""
    book = yaml.safe_load((ROOT / "config" / "rulebooks" / "stars-2026.yaml").read_text(encoding="utf-8"))
    book["version"] = version
    book["subjects"]["member"]["items"].update(extra_items or {})
    book["rules"].extend(extra_rules)
    if edit:
        edit(book)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stars-2026.yaml").write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
    return folder




DISCIPLINE_RULES = [
    {"id": "member-sanction", "source": "discipline", "type": "sanction_imposed",
     "item": "serious_violation", "points": {"fixed": 0}},
    {"id": "member-commendation", "source": "discipline", "type": "commendation_awarded",
     "when": {"grade": {"in": ["county", "city"]}}, "item": "commendation", "points": {"fixed": 6}},
]
DISCIPLINE_ITEMS = {"commendation": {"name": "受到表彰", "monthly_cap": 12}}


# -- fixtures ------------------------------------------------------------------------------------

class County:
    """A township with a village and a community branch and four members, built over RPC."""

    def __init__(self, members_rpc):
        self.rpc = members_rpc
        city = members_rpc.create_org_unit({"name": "黄骅市委", "kind": "city_committee", "parent_id": None})
        self.town = members_rpc.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                                 "parent_id": city["id"]})
        self.village = members_rpc.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch",
                                                    "parent_id": self.town["id"]})
        self.community = members_rpc.create_org_unit({"name": "渤海路社区党支部", "kind": "community_branch",
                                                      "parent_id": self.town["id"]})
        self.a = self.member(self.village, 1, "王建国")
        self.b = self.member(self.village, 2, "李秀英", "female")
        self.c = self.member(self.village, 3, "张伟")
        self.d = self.member(self.community, 4, "赵敏", "female")

    def member(self, branch, number, name, gender="male"):
        born = date(1980, 5, 17)
        return self.rpc.register_member({
            "name": name, "gender": gender, "ethnicity": "汉族", "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, gender), "phone": "13812345678",
            "education": "senior_secondary", "join_date": "2005-07-01", "status": "full",
            "household_plaque": True, "branch_id": branch["id"]})["id"]

    def known_to(self, stars):
        """Wait until the stars service has every member in its directory (members' events
        travel on their own queues), so roll-ups count all of them from the first activity."""
        def known():
            try:
                return all(stars.score("member", m, MONTH) for m in (self.a, self.b, self.c, self.d))
            except NotFound:
                return False
        wait_for(known, timeout=15, message="members known to stars")
        return self

    def volunteer(self, member_id, hours, day=DAY):
        return self.rpc.record_activity({"member_id": member_id, "kind": "volunteer_service",
                                         "occurred_on": day.isoformat(), "hours": str(hours),
                                         "project": "暖心早餐"})

    def blood(self, member_id, day=DAY):
        return self.rpc.record_activity({"member_id": member_id, "kind": "blood_donation",
                                         "occurred_on": day.isoformat()})


def score_is(stars, kind, subject_id, period, expected):
    def check():
        try:
            found = stars.score(kind, subject_id, period)
        except NotFound:
            return False
        return found if Decimal(found["score"]) == Decimal(expected) else False
    return wait_for(check, timeout=15, message=f"{kind} {subject_id} {period} score {expected}")


def count_rows(config, model, *where):
    with db.database(config["services"]["stars"]["database_url"]).reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# -- the pipeline --------------------------------------------------------------------------------

def test_activity_moves_score_level_rank_and_the_branch(system, amqp_uri):
    config = system()
    spy = EventSpy(amqp_uri, "stars", name="stars-spy")
    try:
        with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
            stars = cluster.stars
            county = County(cluster.members).known_to(stars)
            county.volunteer(county.b, 2)                      # b: 2 points, b leads the branch
            score_is(stars, "member", county.b, QUARTER, "2")
            recorded = county.volunteer(county.a, "8.7")       # 8 points (half hours, at most 8)
            score_is(stars, "member", county.a, MONTH, "8")
            county.blood(county.a)                             # + 5 -> 13 this quarter: 1 star
            found = score_is(stars, "member", county.a, QUARTER, "13")
            assert found["level"] == 1 and found["vetoes"] == []
            assert stars.score("member", county.a, MONTH)["level"] == 3   # month: 13 >= 10
            ranks = {r["scope_kind"]: r for r in stars.rank_of("member", county.a, QUARTER)["ranks"]}
            assert ranks["branch"]["rank"] == 1 and ranks["branch"]["size"] == 3
            assert ranks["township"]["rank"] == 1 and ranks["county"]["size"] == 4
            board = stars.top("member", "branch", county.village["id"], QUARTER, 3)["entries"]
            assert [(e["subject_id"], e["score"]) for e in board] == [
                (county.a, "13.00"), (county.b, "2.00"), (county.c, "0.00")]

            # branch: own 0.2 + 0.87 (0.1 per hour) + 0.5 x mean(13, 2, 0) = 1.07 + 2.5
            branch = score_is(stars, "branch", county.village["id"], QUARTER, "3.57")
            assert branch["own_score"] == "1.07"
            explained = stars.explain("member", county.a, QUARTER)
            assert {i["item"]: i["points"] for i in explained["items"]} == {
                "volunteer_service": "8.00", "blood_donation": "5.00"}
            assert recorded["event_id"] in {e["source_event_id"] for e in explained["entries"]}
            assert {e["rule_version"] for e in explained["entries"]} == {"2026.1"}
            town = stars.score("committee", county.town["id"], QUARTER)
            assert town["own_score"] == "0.21"  # 0.02 per volunteer hour: 0.04 + 0.17 (0.174 rounded)
        changed = spy.wait_for("star_level_changed")
        assert any(e["data"]["subject_id"] == county.a and e["data"]["new_level"] == 1 for e in changed)
        scores = [e["data"] for e in spy.wait_for("score_changed", 6)]
        assert {"scored", "rolled_up"} <= {s["cause"] for s in scores}
        moves = spy.wait_for("ranking_changed")
        assert any(m["data"]["subject_id"] == county.a and m["data"]["new_rank"] == 1
                   and m["data"]["scope_kind"] == "branch" and m["data"]["top"] for m in moves)
    finally:
        spy.close()


def test_the_same_event_delivered_twice_counts_once(system, amqp_uri):
    config = system()
    spy = EventSpy(amqp_uri, "members", name="members-spy")
    try:
        with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
            county = County(cluster.members)
            county.volunteer(county.a, 3)
            score_is(cluster.stars, "member", county.a, MONTH, "3")
            [original] = spy.wait_for("activity_recorded")
            for _ in range(2):
                assert publish_raw(config, original, original["id"])
            county.blood(county.a)
            score_is(cluster.stars, "member", county.a, MONTH, "8")
            wait_for(lambda: drained(amqp_uri), message="queue drained")
            time.sleep(0.5)
            assert cluster.stars.score("member", county.a, MONTH)["score"] == "8.00"
        assert count_rows(config, LedgerEntry, LedgerEntry.subject_kind == "member") == 2
    finally:
        spy.close()


def test_revocation_restores_the_previous_score_exactly_under_the_cap(system):
    config = system()
    with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
        county = County(cluster.members).known_to(cluster.stars)
        stars = cluster.stars
        first = county.volunteer(county.a, 8)
        score_is(stars, "member", county.a, MONTH, "8")
        county.volunteer(county.a, 8)                       # raw 16, capped at 10 a month
        score_is(stars, "member", county.a, MONTH, "10")
        branch_before = stars.score("branch", county.village["id"], MONTH)["score"]
        cluster.members.revoke_activity(first["id"], "recorded twice")
        score_is(stars, "member", county.a, MONTH, "8")     # the other 8 hours, not 10 - 8
        second_blood = county.blood(county.a)
        score_is(stars, "member", county.a, MONTH, "13")
        cluster.members.revoke_activity(second_blood["id"], "wrong member")
        score_is(stars, "member", county.a, MONTH, "8")
        assert stars.score("branch", county.village["id"], MONTH)["score"] != branch_before
        entries = stars.explain("member", county.a, MONTH)["entries"]
        compensations = [e for e in entries if e["compensates_id"]]
        assert len(compensations) == 2 and all(e["event_type"] == "activity_revoked" for e in compensations)
        assert sum(Decimal(e["points"]) for e in entries) == Decimal(8)


def test_a_veto_item_forces_level_zero(system, tmp_path):
    folder = write_test_rulebook(tmp_path / "books", DISCIPLINE_RULES, DISCIPLINE_ITEMS)
    config = system(folder, extra=(DisciplineService,))
    with services_running(config, MembersService, StarsService, DisciplineService), \
            rpc_client(config) as cluster:
        county = County(cluster.members).known_to(cluster.stars)
        stars = cluster.stars
        county.volunteer(county.a, 8)
        county.blood(county.a)
        assert score_is(stars, "member", county.a, QUARTER, "13")["level"] == 1
        cluster.discipline.sanction(county.a, DAY.isoformat())
        vetoed = wait_for(lambda: (lambda s: s if s["vetoes"] else False)(
            stars.score("member", county.a, QUARTER)), message="veto applied")
        assert vetoed["level"] == 0 and vetoed["score"] == "13.00"
        assert vetoed["vetoes"] == ["serious_violation"]
        assert stars.score("member", county.a, MONTH)["level"] == 0
        review = stars.unqualified_review(YEAR)
        reasons = {m["member_id"]: m["reasons"] for m in review["members"]}
        assert any("serious_violation" in r for r in reasons[county.a])
        assert not review["official"]


def test_a_new_event_type_from_a_new_service_earns_credit_by_a_rulebook_entry_alone(system, tmp_path):
    folder = write_test_rulebook(tmp_path / "books", DISCIPLINE_RULES, DISCIPLINE_ITEMS)
    config = system(folder, extra=(DisciplineService,))
    with services_running(config, MembersService, StarsService, DisciplineService), \
            rpc_client(config) as cluster:
        county = County(cluster.members).known_to(cluster.stars)
        event_id = cluster.discipline.commend(county.d, DAY.isoformat())
        found = score_is(cluster.stars, "member", county.d, MONTH, "6")
        assert found["level"] == 1
        cluster.discipline.commend(county.d, DAY.isoformat(), grade="village")   # no rule matches
        explained = cluster.stars.explain("member", county.d, MONTH)
        assert [(e["source"], e["event_type"], e["source_event_id"], e["rule_id"], e["rule_version"])
                for e in explained["entries"]] == [
            ("discipline", "commendation_awarded", event_id, "member-commendation", "2026.1-test")]
        # the community branch rolls its member up: 0.5 x 6
        score_is(cluster.stars, "branch", county.community["id"], MONTH, "3")
        wait_for(lambda: count_rows(config, ScoredEvent) == 2, message="both commendations kept")


def test_closing_month_quarter_year_and_the_consequences(system):
    config = system()
    with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
        county = County(cluster.members).known_to(cluster.stars)
        stars = cluster.stars
        county.volunteer(county.a, 8)
        county.blood(county.a)
        county.volunteer(county.b, 4)
        score_is(stars, "member", county.b, MONTH, "4")
        score_is(stars, "member", county.a, MONTH, "13")

        with pytest.raises(Conflict, match="not ended"):
            stars.close_month(periods.month_key(TODAY))
        with pytest.raises(Conflict, match="before"):
            stars.close_quarter(QUARTER, early=True)
        closed_month = stars.close_month(MONTH, closed_by="组织部 李明", early=True)
        members_count = next(c for c in closed_month["counts"] if c["subject_kind"] == "member")
        assert members_count["subjects"] == 4
        assert members_count["levels"]["3"] == 1 and members_count["levels"]["1"] == 1  # 13, 4
        with pytest.raises(Conflict, match="already closed"):
            stars.close_month(MONTH, early=True)
        official = stars.score("member", county.a, MONTH)["official"]
        assert official == {"score": "13.00", "own_score": "13.00", "level": 3, "rank": 1,
                            "vetoes": [], "model_star": None, "model_star_unmet": None}

        year = int(YEAR)
        for month in range(1, 13):
            key = f"{year}-{month:02d}"
            if key != MONTH:
                stars.close_month(key, early=True)
        for quarter in range(1, 5):
            stars.close_quarter(f"{year}-Q{quarter}", early=True)
        town = stars.score("committee", county.town["id"], QUARTER)
        assert town["closed"] and town["official"]["level"] == town["level"]
        year_result = stars.close_year(year, closed_by="组织部 李明", early=True)
        assert [c["committee_id"] for c in year_result["committees"]] == [county.town["id"]]
        assert year_result["model_stars"] == {"member": 0, "branch": 0, "committee": 0}
        assert stars.rank_of("member", county.a, YEAR)["official"]

        # the archived year is final; the next year starts at zero
        county.volunteer(county.a, 2)
        wait_for(lambda: count_rows(config, ScoredEvent, ScoredEvent.status == "archived") == 1,
                 message="late event kept as archived")
        assert stars.score("member", county.a, YEAR)["official"]["score"] == "13.00"
        assert stars.score("member", county.a, str(year + 1))["score"] == "0.00"
        with pytest.raises(Conflict):
            stars.close_year(year, early=True)
        with pytest.raises(Conflict, match="archived"):
            stars.rescore(YEAR, "late fix", "李明")

        award = stars.award_priority(YEAR)
        assert award["official"] and award["members"] == []          # nobody reached 4 stars
        review = stars.unqualified_review(YEAR)
        assert {m["member_id"] for m in review["members"]} == {county.a, county.b, county.c, county.d}
        subsidy = stars.subsidy_report(YEAR)
        assert [(l["branch_id"], l["level"], l["factor"], l["amount"]) for l in subsidy["lines"]] == [
            (county.village["id"], 0, "0.70", "4200.00")]
        assert stars.subsidy_report(YEAR, [{"cadre_id": 7, "branch_id": county.village["id"],
                                            "base": "1000"}])["lines"][0]["amount"] == "700.00"


def test_quarter_closed_carries_the_service_stars_for_talent(system, amqp_uri):
    config = system()
    spy = EventSpy(amqp_uri, "stars", name="closing-spy")
    try:
        with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
            county = County(cluster.members).known_to(cluster.stars)
            county.volunteer(county.a, 8)
            score_is(cluster.stars, "member", county.a, QUARTER, "8")
            period = periods.parse_period(QUARTER)
            for month in period.months:
                cluster.stars.close_month(month, early=True)
            cluster.stars.close_quarter(QUARTER, early=True)
        [closed] = spy.wait_for("quarter_closed")
        [committee] = closed["data"]["committees"]
        assert committee["committee_id"] == county.town["id"] and committee["rank"] == 1
        assert Decimal(committee["score"]) > 0
        assert len(spy.wait_for("month_closed", 3)) == 3
    finally:
        spy.close()


def test_bad_input_unknown_subjects_and_rescoring(system, tmp_path):
    folder = write_test_rulebook(tmp_path / "books")
    config = system(folder)
    with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
        stars = cluster.stars
        assert stars.health()["status"] == "ok"
        county = County(cluster.members).known_to(cluster.stars)
        for call, field in [(lambda: stars.score("cadre", 1, MONTH), "subject_kind"),
                            (lambda: stars.score("member", -1, MONTH), "subject_id"),
                            (lambda: stars.score("member", 1, "2026-13"), "period"),
                            (lambda: stars.top("member", "galaxy", None, MONTH, 5), "scope_kind"),
                            (lambda: stars.top("member", "branch", None, MONTH, 5), "scope_id"),
                            (lambda: stars.top("member", "county", None, MONTH, 0), "n"),
                            (lambda: stars.close_month(QUARTER), "period"),
                            (lambda: stars.award_priority(MONTH), "period"),
                            (lambda: stars.rescore(MONTH, " ", "李明"), "reason"),
                            (lambda: stars.subsidy_report(YEAR, [{"branch_id": 1}]), "cadres.0.cadre_id")]:
            with pytest.raises(InvalidInput) as refused:
                call()
            assert field in refused.value.errors
        with pytest.raises(NotFound):
            stars.score("member", 99999, MONTH)

        county.volunteer(county.a, 3)
        score_is(stars, "member", county.a, MONTH, "3")
        # the department corrects the rulebook: 2 points per volunteer hour, then re-scores
        write_test_rulebook(folder, version="2026.1-fix", edit=lambda book: book["rules"][0]["points"]
                      .update(amount=2))
        run = stars.rescore(MONTH, "volunteer hours were under-counted", "组织部 李明")
        assert run["events_rescored"] == 1 and run["versions"] == ["2026.1-fix"]
        assert stars.score("member", county.a, MONTH)["score"] == "6.00"
        versions = {e["rule_version"] for e in stars.explain("member", county.a, MONTH)["entries"]}
        assert versions == {"2026.1-test", "2026.1-fix"}
        assert count_rows(config, RulebookRun) == 1
        county.volunteer(county.a, 1)                       # new events use the new rulebook
        score_is(stars, "member", county.a, MONTH, "8")


def test_the_demo_county_gives_a_plausible_distribution(system, amqp_uri):
    config = system()
    summary = MembersService.load_demo(config, scale=0.02)
    month = summary["month"]
    members_db = db.database(config["services"]["members"]["database_url"])
    outbox = MembersService.store.outbox_table

    def relayed():
        with members_db.reading() as session:
            return not session.scalar(select(func.count()).select_from(outbox)
                                      .where(outbox.c.status == "pending"))

    # the members service relays its outbox into the (already declared) stars queues ...
    with services_running(config, MembersService):
        wait_for(relayed, timeout=20, interval=0.2, message="demo events relayed")
    # ... and the stars service scores them
    with services_running(config, StarsService), rpc_client(config) as cluster:
        wait_for(lambda: count_rows(config, ScoredEvent) == summary["activities"], timeout=120,
                 interval=0.25, message=f"{summary['activities']} activities scored")
        wait_for(lambda: drained(amqp_uri), message="stars queues drained")
        levels = cluster.stars.distribution("member", month)["levels"]
        assert sum(levels.values()) == summary["members"]
        assert sum(1 for n in levels.values() if n) >= 3, levels
        assert max(levels.values()) < summary["members"] * 0.8, levels
        branches = cluster.stars.distribution("branch", month)["levels"]
        assert sum(branches.values()) == summary["branches"]
        board = cluster.stars.top("member", "county", None, month, 5)["entries"]
        assert [e["rank"] for e in board] == [1, 2, 3, 4, 5]
        assert board[0]["level"] >= board[-1]["level"]
