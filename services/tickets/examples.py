"""Valid calls of the tickets RPCs for the shared input fuzz suite (``ServiceBase.rpc_examples``).

Builds, through the members RPCs, a township with villages and a member under the city the
members examples created, waits until the tickets service has learned them from members' events,
then registers the network, loads the catalogue and opens one ticket per action, each already in
the status its action starts from (RPCs are called in name order; each example must still be
valid when its turn comes, so nothing is shared between two changing RPCs)."""
import time
from datetime import date, datetime, timedelta, timezone

from services.members import resident_id
from services.tickets import sla
from shared.errors import NotFound

SHIFT = {"weekday": 1, "starts": "08:30", "ends": "12:00", "cadre_name": "示例值班员"}


def _wait(check, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return check()
        except NotFound:
            time.sleep(0.1)
    raise AssertionError(f"tickets did not learn {what} within {timeout} s")


def build(cluster) -> dict[str, list[dict]]:
    members, tickets = cluster.members, cluster.tickets
    city = members.list_townships()[0]["parent_id"]

    def unit(name, kind, parent_id):
        return members.create_org_unit({"name": name, "kind": kind, "parent_id": parent_id})["id"]

    town = unit("工单示例镇党委", "township_committee", city)
    village, village2, spare = (unit(f"工单示例{n}村党支部", "village_branch", town) for n in "一二三")
    born = date(1979, 3, 4)
    member = members.register_member({
        "name": "示例代办员", "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
        "resident_id": resident_id.make("130983", born, 71, "male"), "phone": "13812345679",
        "education": "senior_secondary", "join_date": "2010-07-01", "status": "full",
        "household_plaque": True, "branch_id": village})["id"]
    _wait(lambda: tickets.known_unit(spare), "the example units")
    _wait(lambda: tickets.known_member(member), "the example member")

    points = {u: tickets.register_service_point({"unit_id": u})["id"] for u in (city, town, village, village2)}
    station, station2 = points[village], points[village2]
    tickets.load_default_catalogue()
    agent = tickets.register_agent({"service_point_id": station, "name": "示例代办员", "member_id": member})["id"]
    leaving_agent = tickets.register_agent({"service_point_id": station2, "name": "示例临时代办员"})["id"]
    today = sla.local_date(datetime.now(timezone.utc))
    consent = {"method": "signature", "given_on": today.isoformat(), "form_reference": "示例委托书-001"}
    opening = {"service_point_id": station, "matter_code": "pension_check", "requester_name": "示例村民",
               "requester_phone": "13900000000", "description": "养老保险资格认证", "address": "示例一村",
               "by": "示例值班员"}
    by = {"by": "示例值班员"}

    def ticket(*steps):
        found = tickets.open_ticket(opening)["id"]
        for method, payload in steps:
            getattr(tickets, method)(found, {**by, **payload})
        return found

    accepted = ("accept_ticket", {})
    resolved = ("resolve_ticket", {"outcome": "已办结"})
    return {
        "known_unit": [{"unit_id": village}],
        "known_member": [{"member_id": member}],
        "register_service_point": [{"payload": {"unit_id": spare, "name": "工单示例三村便民服务站"}}],
        "get_service_point": [{"service_point_id": station}],
        "list_service_points": [{"level": "village", "township_id": town},
                                {"unit_id": village, "level": "village", "township_id": town}],
        "set_duty_rota": [{"service_point_id": station2, "payload": {"shifts": [
            SHIFT, {**SHIFT, "weekday": 2, "starts": "14:00", "ends": "17:30", "member_id": member}]}}],
        "on_duty": [{"service_point_id": station}],
        "register_agent": [{"payload": {"service_point_id": station2, "name": "示例新代办员",
                                        "phone": "13800000000", "member_id": member}}],
        "retire_agent": [{"agent_id": leaving_agent}],
        "define_matter": [{"payload": {"code": "example_matter", "name": "示例事项", "group": "示例",
                                       "description": "示例", "lowest_level": "township",
                                       "time_limit_days": 5, "documents": ["居民身份证"]}}],
        "load_default_catalogue": [{}],
        "list_matters": [{"include_withdrawn": True}],
        "get_matter": [{"code": "certificate"}],
        "open_ticket": [{"payload": opening},
                        {"payload": {**opening, "agent_id": agent, "consent": consent}}],
        "accept_ticket": [{"ticket_id": ticket(), "payload": {**by, "note": "受理"}}],
        "start_ticket": [{"ticket_id": ticket(accepted), "payload": by}],
        "hold_ticket": [{"ticket_id": ticket(accepted), "payload": {**by, "waiting_on": "villager",
                                                                     "note": "缺材料"}}],
        "resume_ticket": [{"ticket_id": ticket(accepted, ("hold_ticket", {"waiting_on": "department"})),
                           "payload": by}],
        "resolve_ticket": [{"ticket_id": ticket(accepted), "payload": {**by, "outcome": "已办结"}}],
        "close_ticket": [{"ticket_id": ticket(accepted, resolved), "payload": by}],
        "reopen_ticket": [{"ticket_id": ticket(accepted, resolved), "payload": {**by, "reason": "材料有误"}}],
        "escalate_ticket": [{"ticket_id": ticket(), "payload": {**by, "reason": "需要镇里审核"}}],
        "reassign_ticket": [{"ticket_id": ticket(), "payload": {**by, "service_point_id": station2}}],
        "rate_ticket": [{"ticket_id": ticket(accepted, resolved),
                         "payload": {"by": "示例村民", "rating": 5, "comment": "满意"}}],
        "get_ticket": [{"ticket_id": ticket()}],
        "list_tickets": [{"query": {"service_point_id": station, "status": "open", "offset": 0, "limit": 10}},
                         {"unit_id": town, "status": "open", "offset": 0, "limit": 10}],
        "open311_discovery": [{"host_url": "https://jiceng.example.cn/"}],
        "open311_services": [{"args": {"jurisdiction_id": "huanghua.gov.cn"}, "format": "json"}],
        "open311_definition": [{"service_code": "pension_check", "args": {}, "format": "json"}],
        "open311_create": [{"form": {"api_key": "example-key", "service_code": "pension_check",
                                     "attribute[station]": str(station), "lat": "38.371234",
                                     "long": "117.330567", "first_name": "大爷", "last_name": "刘",
                                     "description": "老人行动不便\n请上门认证"},
                            "args": {}, "format": "json"}],
        "open311_requests": [{"args": {"status": "open", "service_code": "pension_check",
                                       "start_date": today.isoformat()}, "format": "json"}],
        "open311_request": [{"service_request_id": str(ticket()), "args": {}, "format": "json"}],
        "scan_time_limits": [{}],
        "measures": [{"scope": "township", "scope_id": town, "date_from": (today - timedelta(days=30)).isoformat(),
                      "date_to": today.isoformat()},
                     {"scope": "county", "date_from": today.isoformat(), "date_to": today.isoformat()}],
        "export_measures": [{"date_from": (today - timedelta(days=30)).isoformat(),
                             "date_to": today.isoformat(), "format": "csv"}],
    }
