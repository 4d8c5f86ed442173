"""The network on a real session (no broker), on PostgreSQL and SQLite: units and members learned
from members' events, service points on the right units, duty rotas across holidays and make-up
days, proxy agents linked to members."""
import pytest

from services.tickets import catalogue, directory, network
from shared.errors import Conflict, NotFound
from tickets_county import (FAR_VILLAGE, INSTITUTION, MEMBER, OTHER_TOWN, TOWN, VILLAGE, at,
                            build, event)


@pytest.fixture
def county(db_url_factory):
    return build(db_url_factory())


def test_units_and_members_follow_the_members_events(county):
    with county.tx() as session:
        directory.learn(session, [
            event("org_unit_changed", org_unit_id=VILLAGE, parent_id=OTHER_TOWN, township_id=OTHER_TOWN,
                  kind="village_branch", name="前辛庄村党支部", dissolved=False, change="moved"),
            event("member_transferred", member_id=MEMBER, branch_id=FAR_VILLAGE, township_id=OTHER_TOWN,
                  category="rural", from_branch_id=VILLAGE, kind="transfer"),
            event("org_unit_changed", org_unit_id=FAR_VILLAGE, parent_id=OTHER_TOWN, township_id=OTHER_TOWN,
                  kind="village_branch", name="王庄村党支部", dissolved=True, change="dissolved"),
        ])
    with county.store.reading() as session:
        moved = network.point_dict(network.point(session, county.station["id"]))
        closed = network.point_dict(network.point(session, county.far_station["id"]))
        member = directory.member_dict(session.get(directory.KnownMember, MEMBER))
    assert moved["township_id"] == OTHER_TOWN and moved["active"]
    assert not closed["active"]
    assert (member["branch_id"], member["name"], member["active"]) == (FAR_VILLAGE, "王建国", True)
    with county.tx() as session:
        directory.learn(session, [event("member_left", member_id=MEMBER, branch_id=FAR_VILLAGE,
                                        township_id=OTHER_TOWN, category="rural",
                                        reason="transferred_out", left_on="2026-10-01")])
    with county.tx() as session, pytest.raises(NotFound, match="has left"):
        network.register_agent(session, {"service_point_id": county.station["id"], "name": "王",
                                          "member_id": MEMBER}, at(2026, 10, 2).date())
    with pytest.raises(Conflict, match="is closed"):
        county.open(at(2026, 10, 8), station=county.far_station)


def test_service_points_only_on_units_that_host_them(county):
    with county.tx() as session, pytest.raises(NotFound, match="not known to tickets"):
        network.register_point(session, {"unit_id": 999})
    with county.tx() as session, pytest.raises(Conflict, match="hosts no service point"):
        network.register_point(session, {"unit_id": INSTITUTION})
    with county.tx() as session, pytest.raises(Conflict, match="already hosts"):
        network.register_point(session, {"unit_id": VILLAGE})
    with county.store.reading() as session:
        levels = [(p["level"], p["township_id"]) for p in network.list_points(session)]
        in_town = network.list_points(session, township_id=TOWN)
        stations = network.list_points(session, level="village")
    assert levels == [("city", None), ("township", TOWN), ("village", TOWN), ("village", TOWN),
                      ("township", OTHER_TOWN), ("village", OTHER_TOWN)]
    assert len(in_town) == 3 and len(stations) == 3


def test_a_duty_rota_and_who_is_on_duty(county):
    shifts = [{"weekday": 1, "starts": "08:30", "ends": "12:00", "cadre_name": "王建国", "member_id": MEMBER},
              {"weekday": 1, "starts": "14:00", "ends": "17:30", "cadre_name": "李秀英"},
              {"weekday": 4, "starts": "08:30", "ends": "17:30", "cadre_name": "赵敏"}]
    with county.tx() as session:
        rota = network.set_rota(session, county.station["id"], shifts)
    assert [s["cadre_name"] for s in rota["shifts"]] == ["王建国", "李秀英", "赵敏"]
    with county.store.reading() as session:
        def who(moment):
            found = network.on_duty(session, county.settings.calendar, county.station["id"], moment)
            return found["working_day"], [s["cadre_name"] for s in found["on_duty"]]
        assert who(at(2026, 10, 12, 9)) == (True, ["王建国"])          # Monday morning
        assert who(at(2026, 10, 12, 15)) == (True, ["李秀英"])
        assert who(at(2026, 10, 1, 9)) == (False, [])                  # National Day, a Thursday
        assert who(at(2026, 10, 8, 9)) == (True, ["赵敏"])             # Thursday after it
        assert who(at(2026, 10, 10, 9)) == (True, ["王建国"])          # make-up Saturday: Monday rota
        assert who(at(2026, 10, 11, 9)) == (False, [])
    with county.tx() as session:
        replaced = network.set_rota(session, county.station["id"], shifts[:1])
    assert len(replaced["shifts"]) == 1
    with county.tx() as session, pytest.raises(NotFound, match="member 999"):
        network.set_rota(session, county.station["id"], [{**shifts[0], "member_id": 999}])


def test_agents_are_linked_to_known_members(county):
    with county.store.reading() as session:
        agents = network.list_agents(session, county.station["id"])
        detail = network.point_detail(session, county.station["id"])
    assert [(a["name"], a["member_id"]) for a in agents] == [("王建国", MEMBER), ("陈晓（大学生村官）", None)]
    assert detail["agents"] == agents
    today = at(2026, 10, 8).date()
    with county.tx() as session, pytest.raises(NotFound, match="member 4242"):
        network.register_agent(session, {"service_point_id": county.station["id"], "name": "x",
                                          "member_id": 4242}, today)
    with county.tx() as session, pytest.raises(Conflict, match="already an agent"):
        network.register_agent(session, {"service_point_id": county.station["id"], "name": "x",
                                          "member_id": MEMBER}, today)
    with county.tx() as session:
        retired = network.retire_agent(session, county.member_agent["id"])
    assert retired["active"] is False
    with county.tx() as session, pytest.raises(Conflict, match="already retired"):
        network.retire_agent(session, county.member_agent["id"])
    with pytest.raises(Conflict, match="retired"):
        county.proxy(at(2026, 10, 8))


def test_the_catalogue(county):
    with county.tx() as session:
        catalogue.define(session, {"code": "certificate", "name": "开具证明", "lowest_level": "village",
                                   "time_limit_days": 1, "documents": [], "active": False})
    with county.store.reading() as session:
        codes = [m["code"] for m in catalogue.list_matters(session)]
        everything = [m["code"] for m in catalogue.list_matters(session, include_withdrawn=True)]
    assert "certificate" not in codes and "certificate" in everything
    with pytest.raises(Conflict, match="withdrawn"):
        county.open(at(2026, 10, 8), "certificate")
