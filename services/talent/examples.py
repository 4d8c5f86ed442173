"""Valid calls of the talent RPCs for the shared input fuzz suite (``ServiceBase.rpc_examples``).

Builds a small county of its own through the members service (a city, a township, villages, an
institution branch, members), waits until talent has learned it from members' events, then sets
up through the talent RPCs what the examples refer to (a sitting township secretary, a problem
item, a project, a training session, a wealth leader, a shop, a pool entry) and returns one or
more valid calls per RPC. An RPC that changes its subject for good (appointing, removing,
withdrawing, moving an item on) gets a subject of its own. ``complete_assessment`` and
``get_assessment`` have none: a complete assessment needs a Service Star from a closed quarter,
and closing one would close it for every other service's examples too."""
import time
from datetime import date, timedelta

from shared.errors import NotFound

REGION = "130983"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BORN = date(1986, 8, 8)


def resident_id(number: int, born=BORN, gender="male") -> str:
    """A valid GB 11643 resident ID (sequence odd for a man, even for a woman)."""
    sequence = number * 2 + (1 if gender == "male" else 0)
    body = f"{REGION}{born:%Y%m%d}{sequence % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def _day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def _wait(call, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except NotFound:
            if time.monotonic() > deadline:
                raise AssertionError(f"talent did not learn {what} within {timeout} s") from None
            time.sleep(0.1)


def rpc_examples(cluster) -> dict[str, list[dict]]:
    members, talent = cluster.members, cluster.talent
    year = date.today().year

    def unit(name, kind, parent_id):
        return members.create_org_unit({"name": name, "kind": kind, "parent_id": parent_id})["id"]

    townships = members.list_townships()          # the county has one city committee
    city = (townships[0]["parent_id"] if townships
            else unit("人才示例市委", "city_committee", None))
    town = unit("人才示例镇党委", "township_committee", city)
    (village, vacant, removed_from, sent_to, status_of, leaders_village) = (
        unit(f"人才示例{n}村党支部", "village_branch", town) for n in "一二三四五六")
    office = unit("人才示例机关党支部", "institution_branch", city)

    def member(number, branch):
        return members.register_member({
            "name": f"人才示例{number}", "gender": "male", "ethnicity": "汉族",
            "birth_date": BORN.isoformat(), "resident_id": resident_id(number),
            "phone": "13812345678", "education": "bachelor", "join_date": "2010-07-01",
            "status": "full", "household_plaque": False, "branch_id": branch})["id"]

    ids = {name: member(n, office if name in ("secretary", "first") else village)
           for n, name in enumerate(("secretary", "appointee", "first", "removed", "profile",
                                     "reserve", "withdrawn", "leader", "trainee", "new"), 1)}

    def cadre(name, **profile):
        payload = {"name": f"人才示例{name}", "gender": "male", "birth_date": BORN.isoformat(),
                   "education": "bachelor", "experience_years": 8,
                   "member_id": ids.get(name), **profile}
        if payload["member_id"] is None:
            payload.update(member_id=None, standing="activist")
        return _wait(lambda: talent.register_cadre(payload), f"member {name}")["id"]

    secretary = cadre("secretary")
    cadres = {name: cadre(name) for name in ("appointee", "first", "removed", "profile", "reserve",
                                             "withdrawn", "leader", "trainee")}
    _wait(lambda: talent.appoint({"cadre_id": secretary, "role": "township_secretary",
                                  "unit_id": town, "started_on": f"{year - 1}-01-01",
                                  "reason": "乡镇党委换届"}), "the township")
    post = talent.appoint({"cadre_id": cadres["removed"], "role": "village_secretary",
                           "unit_id": removed_from, "started_on": f"{year - 1}-03-01",
                           "reason": "换届选举"})["id"]
    talent.add_reserve_candidate({"cadre_id": cadres["withdrawn"], "township_id": town,
                                  "village_id": vacant, "added_on": _day(100)})
    problem = talent.add_duty_item({"township_id": town, "list_kind": "problem",
                                    "title": "组织生活不规范", "owner": "张强",
                                    "deadline": _day(-60)})["id"]
    item = talent.add_duty_item({"township_id": town, "list_kind": "responsibility",
                                 "title": "党建责任制", "owner": "张强", "deadline": _day(-90)})["id"]
    project = talent.add_party_project({"township_id": town, "name": "红色网格",
                                        "started_on": _day(30)})["id"]
    base = talent.add_training_base({"name": "人才示例党校", "location": "渤海路"})["id"]
    course = talent.add_course({"title": "乡村振兴案例研讨", "mode": "interaction",
                                "hours": "3.0"})["id"]
    held = talent.schedule_session({"course_id": course, "base_id": base,
                                    "held_on": _day(5)})["id"]
    talent.register_wealth_leader({"cadre_id": cadres["leader"], "village_id": leaders_village,
                                   "industry": "冬枣种植", "households_helped": 30,
                                   "since": "2015-04-01"})
    shop = talent.add_online_shop({"leader_id": cadres["leader"], "platform": "淘宝",
                                   "name": "人才示例冬枣店"})["id"]
    person = {"name": "人才示例新人", "gender": "female", "birth_date": "1990-02-28",
              "education": "associate", "member_id": ids["new"], "experience_years": 3,
              "experience": "村委会委员"}
    return {
        "register_cadre": [{"payload": person},
                           {"payload": {**person, "member_id": None, "standing": "non_member"}}],
        "update_cadre": [{"cadre_id": cadres["profile"],
                          "payload": {"education": "master", "experience_years": 9}}],
        "get_cadre": [{"cadre_id": secretary}],
        "list_cadres": [{"team": "township_secretary", "township_id": town, "offset": 0,
                         "limit": 50},
                        {"team": "wealth_leader", "unit_id": leaders_village, "offset": 0,
                         "limit": 50}],
        "appoint": [{"payload": {"cadre_id": cadres["appointee"], "role": "village_secretary",
                                 "unit_id": village, "started_on": _day(10),
                                 "reason": "换届选举"}},
                    {"payload": {"cadre_id": cadres["first"], "role": "first_secretary",
                                 "unit_id": sent_to, "started_on": _day(10), "ends_on": _day(-700),
                                 "reason": "乡镇选派", "sent_by": "township"}}],
        "remove_from_post": [{"post_id": post, "ended_on": _day(1), "reason": "调任"}],
        "set_village_status": [{"payload": {"village_id": status_of, "status": "weak",
                                            "reason": "软弱涣散村", "decided_on": _day(20)}}],
        "first_secretary_coverage": [{"on": _day(0)}],
        "add_reserve_candidate": [{"payload": {"cadre_id": cadres["reserve"], "township_id": town,
                                               "village_id": vacant, "added_on": _day(40),
                                               "note": "村委会委员"}}],
        "withdraw_reserve_candidate": [{"cadre_id": cadres["withdrawn"], "on": _day(1),
                                        "reason": "外出务工"}],
        "list_reserve": [{"township_id": town, "offset": 0, "limit": 20},
                         {"unit_id": town, "township_id": town, "offset": 0, "limit": 20}],
        "shortlist": [{"village_id": vacant, "on": _day(0)}],
        "add_duty_item": [{"payload": {"township_id": town, "list_kind": "rectification",
                                       "title": "规范三会一课记录", "owner": "张强",
                                       "deadline": _day(-30), "problem_id": problem}}],
        "set_duty_status": [{"payload": {"item_id": item, "status": "in_progress",
                                         "on": _day(0)}}],
        "duty_lists": [{"cadre_id": secretary, "year": year}],
        "overdue_items": [{"township_id": town, "on": _day(0)}],
        "add_party_project": [{"payload": {"township_id": town, "name": "党员志愿服务品牌",
                                           "goal": "每村一支队伍", "started_on": _day(20)}}],
        "set_project_status": [{"payload": {"project_id": project, "status": "underway",
                                            "on": _day(1)}}],
        "add_training_base": [{"payload": {"name": "人才示例现场教学基地", "location": "旧城镇",
                                           "township_id": town}}],
        "list_training_bases": [{}],
        "add_course": [{"payload": {"title": "冬枣提质增效现场教学", "mode": "field",
                                    "hours": "4.0"}}],
        "schedule_session": [{"payload": {"course_id": course, "base_id": base,
                                          "held_on": _day(3), "hours": "2.5"}}],
        "record_attendance": [{"payload": {"session_id": held,
                                           "cadre_ids": [secretary, cadres["trainee"]],
                                           "hours": "2.0"}}],
        "training_hours": [{"year": year, "township_id": town},
                           {"year": year, "unit_id": town}],
        "service_stars": [{"township_id": town, "year": year}],
        "record_review_votes": [{"payload": {"cadre_id": secretary, "year": year,
                                             "excellent": 30, "good": 12, "fair": 3, "poor": 0,
                                             "entered_by": "组织部 李明"}}],
        "preview_assessment": [{"cadre_id": secretary, "year": year}],
        "register_wealth_leader": [{"payload": {"cadre_id": cadres["trainee"],
                                                "village_id": leaders_village,
                                                "industry": "水产养殖", "households_helped": 12,
                                                "since": "2018-04-01"}}],
        "set_households_helped": [{"payload": {"cadre_id": cadres["leader"],
                                               "households_helped": 40}}],
        "add_cooperative": [{"payload": {"name": "人才示例冬枣专业合作社", "industry": "冬枣种植",
                                         "village_id": leaders_village,
                                         "leader_id": cadres["leader"],
                                         "member_households": 68, "founded_on": "2012-03-15"}}],
        "add_demonstration_zone": [{"payload": {"name": "人才示例冬枣示范园", "industry": "冬枣种植",
                                                "leader_id": cadres["leader"],
                                                "area_mu": "320.5"}}],
        "add_online_shop": [{"payload": {"leader_id": cadres["leader"], "platform": "京东",
                                         "name": "人才示例海鲜店"}}],
        "record_shop_sales": [{"payload": {"shop_id": shop, "year": year,
                                           "amount": "186000.00"}}],
        "wealth_summary": [{"year": year, "township_id": None},
                           {"year": year, "unit_id": leaders_village}],
    }
