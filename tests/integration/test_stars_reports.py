"""The stars answers about closed periods, sanctions and the Model Star, with the members service
over the real RabbitMQ, on PostgreSQL and SQLite: ``explain`` of a closed period answers the
frozen result with late figures beside it, a closed quarter includes its months' late entries,
``record_sanction`` vetoes a member through the service's own subscription, and a Model Star is
awarded at the year's close."""
from datetime import timedelta

import pytest

from services.members.service import MembersService
from services.stars import periods
from services.stars.service import StarsService
from shared.bus.rpc import rpc_client
from shared.errors import InvalidInput
from tests.integration.test_stars_service import (DAY, MONTH, QUARTER, TODAY, YEAR, County,
                                                  score_is, write_test_rulebook)
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy

pytestmark = pytest.mark.integration


def meeting(county, member_id, attended=True, day=DAY):
    return county.rpc.record_activity({"member_id": member_id, "kind": "meeting",
                                       "occurred_on": day.isoformat(),
                                       "meeting_kind": "member_assembly", "attended": attended})


def close_months_of(stars, period_key, but=()):
    for month in periods.parse_period(period_key).months:
        if month not in but:
            stars.close_month(month, early=True)


def close_year(stars, year):
    for quarter in range(1, 5):
        close_months_of(stars, f"{year}-Q{quarter}")
        stars.close_quarter(f"{year}-Q{quarter}", early=True)
    return stars.close_year(year, closed_by="组织部 李明", early=True)


# -- explain of a closed period ------------------------------------------------------------------

def test_explain_of_a_closed_month_answers_the_frozen_result_and_the_late_figures_beside_it(system):
    config = system()
    with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
        stars = cluster.stars
        county = County(cluster.members).known_to(stars)
        county.volunteer(county.a, 4)
        score_is(stars, "member", county.a, MONTH, "4")
        stars.close_month(MONTH, closed_by="组织部 李明", early=True)

        closed = stars.explain("member", county.a, MONTH)
        assert closed["closed"] and closed["official"] and closed["closed_by"] == "组织部 李明"
        assert (closed["score"], closed["own_score"], closed["level"], closed["rank"]) == \
            ("4.00", "4.00", 1, 1)
        assert [(i["item"], i["points"], i["count"]) for i in closed["items"]] == [
            ("volunteer_service", "4.00", 1)]
        assert {r["scope_kind"]: (r["rank"], r["size"]) for r in closed["ranks"]} == {
            "branch": (1, 3), "township": (1, 4), "county": (1, 4)}
        assert closed["vetoes"] == [] and closed["model_star"] is None
        assert closed["model_star_unmet"] is None          # no Model Star for a month
        assert closed["live"] is None and closed["note"] is None
        assert [e["after_close"] for e in closed["entries"]] == [False]

        # an activity dated in the closed month arrives late: live moves, the result stands
        county.volunteer(county.a, 6)
        assert score_is(stars, "member", county.a, MONTH, "10")["official"]["score"] == "4.00"
        late = stars.explain("member", county.a, MONTH)
        assert (late["score"], late["level"], late["items"][0]["count"]) == ("4.00", 1, 1)
        assert (late["live"]["score"], late["live"]["level"]) == ("10.00", 3)
        assert [(i["item"], i["points"], i["count"]) for i in late["live"]["items"]] == [
            ("volunteer_service", "10.00", 2)]
        assert late["note"].startswith(f"1 ledger entry dated in {MONTH} arrived after it closed on ")
        assert [e["after_close"] for e in late["entries"]] == [False, True]
        untouched = stars.explain("member", county.c, MONTH)
        assert untouched["official"] and untouched["live"] is None

        # the quarter is frozen from the ledger at its own close: it includes the late entry
        close_months_of(stars, QUARTER, but=(MONTH,))
        stars.close_quarter(QUARTER, early=True)
        quarter = stars.explain("member", county.a, QUARTER)
        assert (quarter["score"], quarter["live"]) == ("10.00", None)
        assert [(i["item"], i["points"], i["count"]) for i in quarter["items"]] == [
            ("volunteer_service", "10.00", 2)]
        assert stars.explain("member", county.a, MONTH)["score"] == "4.00"


# -- sanctions -----------------------------------------------------------------------------------

def test_a_sanction_recorded_by_the_county_vetoes_the_member_through_the_broker(system, amqp_uri):
    config = system()
    spy = EventSpy(amqp_uri, "stars", name="sanction-spy")
    try:
        with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
            stars = cluster.stars
            county = County(cluster.members).known_to(stars)
            county.volunteer(county.a, 8)
            county.blood(county.a)
            assert score_is(stars, "member", county.a, QUARTER, "13")["level"] == 1

            recorded = stars.record_sanction(county.a, "serious_violation", DAY.isoformat(),
                                             "党内严重警告处分", "组织部 李明")
            assert (recorded["item_kind"], recorded["occurred_on"], recorded["township_id"]) == \
                ("veto", DAY.isoformat(), county.town["id"])
            vetoed = wait_for(lambda: (lambda s: s if s["vetoes"] else False)(
                stars.score("member", county.a, QUARTER)), message="veto applied")
            assert (vetoed["level"], vetoed["score"], vetoed["vetoes"]) == (0, "13.00", ["serious_violation"])
            assert stars.score("member", county.a, MONTH)["level"] == 0
            assert stars.score("member", county.a, YEAR)["level"] == 0
            [entry] = [e for e in stars.explain("member", county.a, QUARTER)["entries"]
                       if e["source"] == "stars"]
            assert (entry["event_type"], entry["source_event_id"], entry["rule_id"]) == (
                "sanction_recorded", recorded["event_id"], "member-sanction-serious-violation")

            stars.record_sanction(county.d, "meeting_absence", DAY.isoformat(),
                                  "无故缺席社区党员大会", "组织部 李明")
            assert score_is(stars, "member", county.d, MONTH, "-2")["level"] == 0

            day = DAY.isoformat()
            for args, field in [
                    ((99999, "serious_violation", day, "r", "p"), "member_id"),
                    ((county.a, "volunteer_service", day, "r", "p"), "item"),   # a merit item
                    ((county.a, "major_matter_violation", day, "r", "p"), "item"),  # a branch's
                    ((county.a, "serious_violation", "2026-13-01", "r", "p"), "decided_on"),
                    # tomorrow even in China (UTC+8), whose date decides
                    ((county.a, "serious_violation", (TODAY + timedelta(days=2)).isoformat(), "r", "p"),
                     "decided_on"),
                    ((county.a, "serious_violation", day, "  ", "p"), "reason"),
                    ((county.a, "serious_violation", day, "r", None), "recorded_by")]:
                with pytest.raises(InvalidInput) as refused:
                    stars.record_sanction(*args)
                assert set(refused.value.errors) == {field}, args
            with pytest.raises(InvalidInput) as everything:
                stars.record_sanction(0, "", "soon", "", "")
            assert set(everything.value.errors) == {"member_id", "item", "decided_on", "reason",
                                                    "recorded_by"}
        published = spy.wait_for("sanction_recorded", 2)
        assert [(e["data"]["member_id"], e["data"]["item"]) for e in published] == [
            (county.a, "serious_violation"), (county.d, "meeting_absence")]
        assert len([e for e in spy.drain() if e["type"] == "sanction_recorded"]) == 2  # none refused
    finally:
        spy.close()


# -- the Model Star ------------------------------------------------------------------------------

def reachable_model_star(book):
    """Year thresholds a few activities reach; Model Star: level 5, 8 volunteer points, 2 meetings."""
    member = book["subjects"]["member"]
    member["thresholds"]["year"] = [2, 4, 6, 8, 10]
    member["model_star"] = {"period": "year", "min_level": 5, "max_deduction": 0,
                            "min_items": {"volunteer_service": {"points": 8},
                                          "meeting_attendance": {"count": 2}}}


def test_a_member_meeting_every_criterion_is_awarded_the_model_star_at_the_years_close(system, tmp_path):
    folder = write_test_rulebook(tmp_path / "books", edit=reachable_model_star)
    config = system(folder)
    with services_running(config, MembersService, StarsService), rpc_client(config) as cluster:
        stars = cluster.stars
        county = County(cluster.members).known_to(stars)
        county.volunteer(county.a, 8)                        # 8 + 2 x 2 = 12: level 5, criteria met
        meeting(county, county.a)
        meeting(county, county.a)
        county.volunteer(county.b, 8)                        # 8 + 2 = 10: level 5, one meeting short
        meeting(county, county.b)
        score_is(stars, "member", county.a, YEAR, "12")
        score_is(stars, "member", county.b, YEAR, "10")

        closed = close_year(stars, int(YEAR))
        assert closed["model_stars"] == {"member": 1, "branch": 0, "committee": 0}
        model = stars.score("member", county.a, YEAR)["official"]
        assert (model["level"], model["model_star"], model["model_star_unmet"]) == (5, True, [])
        short = stars.score("member", county.b, YEAR)["official"]
        assert (short["level"], short["model_star"], short["model_star_unmet"]) == (
            5, False, ["meeting_attendance: 1 times, needs 2"])
        none = stars.score("member", county.c, YEAR)["official"]
        assert none["model_star"] is False and "level 0 is below 5" in none["model_star_unmet"]
        branch = stars.score("branch", county.village["id"], YEAR)["official"]
        assert branch["model_star"] is False and branch["model_star_unmet"]
        explained = stars.explain("member", county.a, YEAR)
        assert (explained["model_star"], explained["model_star_unmet"]) == (True, [])
        quarter = stars.score("member", county.a, QUARTER)["official"]
        assert (quarter["model_star"], quarter["model_star_unmet"]) == (None, None)

        with pytest.raises(InvalidInput) as archived:          # the year is final
            stars.record_sanction(county.a, "serious_violation", DAY.isoformat(), "r", "p")
        assert archived.value.errors == {"decided_on": [f"{YEAR} is archived: its results are final"]}
