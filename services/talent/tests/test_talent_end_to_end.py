"""The talent service with the members and stars services over the real RabbitMQ, on PostgreSQL
and SQLite: a cadre's training earns Vanguard Star credit by a rulebook entry alone; a
committee's quarter closed in stars reaches its secretary's assessment; the demo loads on the
members service's county; the overdue timer publishes rectification_overdue."""
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.members import resident_id
from services.members.service import MembersService
from services.stars import periods
from services.stars.service import StarsService
from services.talent import duties, posts
from services.talent.service import TalentService
from shared import migrate, plugins
from shared.bus.rpc import rpc_client
from shared.errors import NotFound
from talent_helpers import SETTINGS, TOWN, person, store  # noqa: F401
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy

pytestmark = pytest.mark.integration

TODAY = date.today()
DAY = TODAY - timedelta(days=2)
MONTH, QUARTER = periods.month_key(DAY), periods.quarter_key(DAY)
YEAR = DAY.year


@pytest.fixture
def system(amqp_uri, db_url_factory):
    """members + stars + talent on their own databases, talent registered as a plugin."""
    urls = {"members": db_url_factory(), "stars": db_url_factory(), "talent": db_url_factory()}
    for cls in (MembersService, StarsService, TalentService):
        migrate.upgrade(cls, urls[cls.name])
    plugins.register(TalentService)
    yield make_config(amqp_uri, urls)
    plugins.unregister("talent")


class County:
    """A township with a village branch, its members and the township secretary, over RPC."""

    def __init__(self, cluster):
        members = cluster.members
        city = members.create_org_unit({"name": "黄骅市委", "kind": "city_committee", "parent_id": None})
        self.town = members.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                             "parent_id": city["id"]})["id"]
        self.village = members.create_org_unit({"name": "前辛庄村党支部", "kind": "village_branch",
                                                "parent_id": self.town})["id"]
        self.secretary, self.volunteer = (self.member(members, n, name) for n, name in
                                          ((1, "王建国"), (2, "李秀英")))
        self.talent, self.stars = cluster.talent, cluster.stars

    def member(self, members, number, name):
        born = date(1978, 5, 17)
        return members.register_member({
            "name": name, "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, "male"),
            "phone": "13812345678", "education": "bachelor", "join_date": "2005-07-01",
            "status": "full", "household_plaque": True, "branch_id": self.village})["id"]

    def cadre(self, member_id, **profile):
        """A profile, once talent has learned the member from the members service's events."""
        def register():
            try:
                return self.talent.register_cadre({
                    "name": "王建国", "gender": "male", "birth_date": "1978-05-17",
                    "education": "bachelor", "member_id": member_id, "experience_years": 15,
                    **profile})
            except NotFound:
                return None
        return wait_for(register, message=f"talent learned member {member_id}")


def stars_score(stars, kind, subject_id, period, check):
    def found():
        try:
            answer = stars.score(kind, subject_id, period)
        except NotFound:
            return None
        return answer if check(answer) else None
    return wait_for(found, timeout=20, message=f"{kind} {subject_id} {period} in stars")


def test_training_attended_earns_vanguard_star_credit_by_the_rulebook_entry_alone(system, amqp_uri):
    spy = EventSpy(amqp_uri, "talent", name="talent-spy")
    try:
        with services_running(system, MembersService, StarsService, TalentService), \
                rpc_client(system) as cluster:
            county = County(cluster)
            cadre = county.cadre(county.secretary)
            talent = cluster.talent
            base = talent.add_training_base({"name": "黄骅市委党校", "location": "渤海路"})
            course = talent.add_course({"title": "冬枣提质增效现场教学", "mode": "field",
                                        "hours": "3.0"})
            held = talent.schedule_session({"course_id": course["id"], "base_id": base["id"],
                                            "held_on": DAY.isoformat()})
            talent.record_attendance({"session_id": held["id"], "cadre_ids": [cadre["id"]]})
            # 0.5 a training hour: 3 hours -> 1.5 points (rule member-cadre-training)
            scored = stars_score(county.stars, "member", county.secretary, MONTH,
                                 lambda s: Decimal(s["score"]) == Decimal("1.5"))
            assert scored["level"] == 0
            entries = county.stars.explain("member", county.secretary, MONTH)["entries"]
            assert [(e["source"], e["event_type"], e["rule_id"]) for e in entries] == [
                ("talent", "training_attended", "member-cadre-training")]
            hours = talent.training_hours(YEAR, county.town)
            assert {r["cadre_id"]: r["hours"] for r in hours["rows"]}[cadre["id"]] == "3.0"
        [attended] = spy.wait_for("training_attended")
        assert (attended["data"]["member_id"], attended["data"]["branch_id"],
                attended["data"]["township_id"]) == (county.secretary, county.village, county.town)
    finally:
        spy.close()


def test_a_quarter_closed_in_stars_reaches_the_secretarys_assessment(system, amqp_uri):
    spy = EventSpy(amqp_uri, "talent", name="assessment-spy")
    try:
        with services_running(system, MembersService, StarsService, TalentService), \
                rpc_client(system) as cluster:
            county = County(cluster)
            talent, stars = cluster.talent, cluster.stars
            cadre = county.cadre(county.secretary)
            talent.appoint({"cadre_id": cadre["id"], "role": "township_secretary",
                            "unit_id": county.town, "started_on": f"{YEAR}-01-01",
                            "reason": "乡镇党委换届"})
            cluster.members.record_activity({"member_id": county.volunteer,
                                             "kind": "volunteer_service",
                                             "occurred_on": DAY.isoformat(), "hours": "8",
                                             "project": "暖心早餐"})
            stars_score(stars, "committee", county.town, QUARTER,
                        lambda s: Decimal(s["score"]) > 0)
            talent.record_review_votes({"cadre_id": cadre["id"], "year": YEAR, "excellent": 30,
                                        "good": 10, "fair": 0, "poor": 0,
                                        "entered_by": "组织部 李明"})
            waiting = talent.preview_assessment(cadre["id"], YEAR)
            assert [m["source"] for m in waiting["missing"]] == ["service_star"]

            for month in periods.parse_period(QUARTER).months:
                stars.close_month(month, early=True)
            stars.close_quarter(QUARTER, closed_by="组织部 李明", early=True)
            official = stars.score("committee", county.town, QUARTER)["official"]
            received = wait_for(lambda: talent.service_stars(county.town, YEAR),
                                message="talent received the quarter's Service Star")
            assert [(s["period"], s["level"], s["score"]) for s in received] == [
                (QUARTER, official["level"], official["score"])]

            done = talent.complete_assessment({"cadre_id": cadre["id"], "year": YEAR,
                                               "assessed_by": "组织部 李明"})
            star = next(s for s in done["sources"] if s["source"] == "service_star")
            points = SETTINGS.assessment.star_points[official["level"]]
            assert Decimal(star["score"]) == Decimal(points)
            assert f"{QUARTER} {official['level']} stars (score {official['score']}" in star["explanation"]
            assert sum(Decimal(s["weighted"]) for s in done["sources"]) == Decimal(done["total"])
            assert done["grade"] in done["grade_explanation"]
            assert talent.get_assessment(cadre["id"], YEAR)["total"] == done["total"]
        [completed] = spy.wait_for("assessment_completed")
        assert (completed["data"]["cadre_id"], completed["data"]["total"],
                completed["data"]["grade"]) == (cadre["id"], done["total"], done["grade"])
    finally:
        spy.close()


def test_the_demo_loads_on_the_members_county_and_its_shortlists_ask_stars(system):
    MembersService.load_demo(system, scale=0.02)
    with services_running(system, MembersService, StarsService, TalentService), \
            rpc_client(system, timeout=60) as cluster:
        summary = TalentService.load_demo_live(system, cluster, scale=0.05)
        assert summary["township_secretary"] == len(cluster.members.list_townships())
        assert TalentService.load_demo_live(system, cluster, scale=0.05) is None
        talent = cluster.talent
        coverage = talent.first_secretary_coverage()
        villages = [u for u in cluster.members.list_subtree(
            cluster.members.list_townships()[0]["parent_id"]) if u["kind"] == "village_branch"]
        assert coverage["villages"] == len(villages)
        assert coverage["covered"] == summary["first_secretary"]
        sitting = talent.list_cadres("village_secretary")["cadres"][0]
        [post] = [p for p in talent.get_cadre(sitting["id"])["posts"] if p["held"]]
        talent.remove_from_post(post["id"], TODAY.isoformat(), "调任乡镇工作")
        answer = talent.shortlist(post["unit_id"])
        assert answer["complete"] and answer["considered"] == len(answer["shortlist"]) + len(
            answer["ranked_below"]) + len(answer["excluded"])
        wealth = talent.wealth_summary(TODAY.year)
        assert wealth["leaders"] == summary["wealth_leaders"]
        assert wealth["cooperatives"] == summary["cooperatives"]


def test_the_overdue_timer_publishes_rectification_overdue_once(amqp_uri, store):  # noqa: F811
    cadre = person(store, member_id=105)
    with store.transaction() as session:
        posts.appoint(session, {"cadre_id": cadre["id"], "role": "township_secretary",
                                "unit_id": TOWN, "started_on": date(2025, 1, 1), "ends_on": None,
                                "reason": "换届", "sent_by": None}, SETTINGS)
        late = duties.add_item(session, {"township_id": TOWN, "list_kind": "rectification",
                                         "title": "活动场所改造", "owner": "张强",
                                         "deadline": date(2026, 11, 20), "problem_id": None,
                                         "created_on": date(2026, 2, 1)}, date(2026, 11, 27))
    config = make_config(amqp_uri, {"talent": store.database.url})
    config["talent"] = {"today": "2026-11-27", "duties": {"overdue_check_seconds": 0.2}}
    spy = EventSpy(amqp_uri, "talent", name="overdue-spy")
    try:
        with services_running(config, TalentService):
            [found] = spy.wait_for("rectification_overdue")
            time.sleep(1)                  # the timer looks about five times more
        assert (found["data"]["item_id"], found["data"]["days_overdue"]) == (late["id"], 7)
        assert [e["type"] for e in spy.drain()].count("rectification_overdue") == 1
    finally:
        spy.close()
