"""The demo county's three teams (pure, deterministic): generated on top of the organisation
units and members the members service's demo county has, which the loader asks for by RPC.

``generate(units, members_of, today, seed, scale)`` returns plain data (``Demo``); records refer
to people by their position in ``Demo.people`` (``person``) and to training records by position
too, which the loader maps to database ids. At scale 1.0: a secretary for each township and for
nearly every village, first secretaries for nearly every village (so the coverage report has a
few gaps and some terms ending), about 813 reserve candidates and 596 wealth-creation leaders
(the article's figures), 182 cooperatives, 10 training bases and a year of training."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from random import Random

TOWNSHIP_KINDS = ("township_committee", "street_committee")
RESERVE = 813
LEADERS = 596
COOPERATIVES = 182
ZONES = 24
SHOPS = 150
EDUCATIONS = ("junior_secondary", "senior_secondary", "vocational", "associate", "bachelor")
EDUCATION_WEIGHTS = (15, 35, 15, 20, 15)
INDUSTRIES = ("冬枣种植", "水产养殖", "设施蔬菜", "畜牧养殖", "农产品加工", "乡村旅游", "电子商务",
              "盐碱地小麦", "渔业捕捞", "海盐加工")
PLATFORMS = ("淘宝", "京东", "拼多多", "抖音小店", "快手小店", "微信小程序")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高郭马宋郑韩冯于董曹贾魏孟田崔常"
GIVEN = "国建志明伟军强永海春德庆文华立忠东福宝成秀英玉兰芳丽红霞梅敏静燕娟凤"
BASES = (("黄骅市委党校", "黄骅市渤海路"), ("冬枣产业现场教学基地", "黄骅镇齐家务村"),
         ("南排河渔业现场教学基地", "南排河镇歧口村"), ("羊二庄民族团结教育基地", "羊二庄镇"),
         ("旧城镇基层党建示范点", "旧城镇"), ("吕桥镇乡村振兴实训基地", "吕桥镇"),
         ("常郭镇农民专业合作社示范基地", "常郭镇"), ("官庄乡电商服务中心", "官庄乡"),
         ("骅中街道社区治理实践基地", "骅中街道"), ("渤海新区港城建设教学点", "渤海新区"))
COURSES = (("习近平新时代中国特色社会主义思想专题", "lecture", "6.0"),
           ("村级重大事项\"四议两公开\"实务", "lecture", "6.0"),
           ("发展党员工作规范", "lecture", "4.0"), ("冬枣提质增效现场教学", "field", "6.0"),
           ("渔业合作社运营现场观摩", "field", "6.0"), ("基层党建示范点观摩", "field", "4.0"),
           ("农村电商实操", "interaction", "4.0"), ("乡村振兴案例研讨", "interaction", "4.0"),
           ("村集体经济发展经验交流", "interaction", "3.0"), ("信访矛盾化解情景模拟", "interaction", "3.0"),
           ("创星晋级记分办法解读", "lecture", "2.0"), ("第一书记驻村工作交流", "interaction", "3.0"))
DUTIES = {
    "responsibility": ("落实基层党建工作责任制", "村党组织书记队伍建设", "软弱涣散村党组织整顿",
                       "党员发展质量管控", "党建引领乡村振兴"),
    "problem": ("部分村组织生活不规范", "村级活动场所功能单一", "后备干部储备不足",
                "村集体经济收入薄弱", "党员教育管理不到位"),
    "rectification": ("规范\"三会一课\"记录", "活动场所改造提升", "每村储备2名以上后备干部",
                      "制定集体经济增收方案", "开展党员集中轮训"),
}
PROJECTS = ("\"红色网格\"党建引领基层治理", "\"党建+合作社\"富民工程", "村级活动场所提升工程",
            "\"双培双带\"先锋工程", "党员志愿服务品牌建设")


@dataclass
class Demo:
    units: list = field(default_factory=list)
    members: list = field(default_factory=list)
    people: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    cooperatives: list = field(default_factory=list)
    zones: list = field(default_factory=list)
    shops: list = field(default_factory=list)
    bases: list = field(default_factory=list)
    courses: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    attendance: list = field(default_factory=list)
    duties: list = field(default_factory=list)
    projects: list = field(default_factory=list)
    votes: list = field(default_factory=list)

    def summary(self) -> dict:
        roles = {}
        for person in self.people:
            if person["post"]:
                roles[person["post"]["role"]] = roles.get(person["post"]["role"], 0) + 1
        return {**roles, "reserve_candidates": sum(bool(p["reserve"]) for p in self.people),
                "wealth_leaders": sum(bool(p["leader"]) for p in self.people),
                "cooperatives": len(self.cooperatives), "training_sessions": len(self.sessions),
                "attendance": len(self.attendance), "duty_items": len(self.duties)}


class _Draw:
    """Members of a unit handed out once each."""

    def __init__(self, rng, members_of):
        self.rng = rng
        self.left = {unit: list(found) for unit, found in members_of.items()}
        for found in self.left.values():
            rng.shuffle(found)

    def take(self, unit_ids, adult_on=None, max_age=None):
        for unit_id in unit_ids:
            found = self.left.get(unit_id) or []
            for position, member in enumerate(found):
                if max_age is None or _age(member["birth_date"], adult_on) <= max_age:
                    return found.pop(position)
        return None


def _age(birth_date, day):
    born = date.fromisoformat(birth_date) if isinstance(birth_date, str) else birth_date
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def generate(units, members_of, today: date, seed=2017, scale=1.0) -> Demo:
    rng = Random(seed)
    demo = Demo(units=list(units))
    townships = [u for u in units if u["kind"] in TOWNSHIP_KINDS]
    villages = [u for u in units if u["kind"] == "village_branch"]
    institutions = [u["id"] for u in units if u["kind"] == "institution_branch"]
    by_township = {}
    for village in villages:
        by_township.setdefault(village["township_id"], []).append(village)
    draw = _Draw(rng, members_of)
    kept = {}

    def person(member=None, **profile):
        if member is not None:
            kept[member["id"]] = member
            profile.update(name=member["name"][:50], gender=member["gender"],
                           birth_date=date.fromisoformat(member["birth_date"]),
                           education=member.get("education") or "junior_secondary",
                           member_id=member["id"], standing=None)
        else:
            gender = rng.choice(("male", "female"))
            profile.update(name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
                           gender=gender, birth_date=_birth(rng, today, 25, 58),
                           education=rng.choices(EDUCATIONS, EDUCATION_WEIGHTS)[0], member_id=None,
                           standing=rng.choice(("activist", "non_member")))
        profile.setdefault("experience_years", rng.randint(0, 20))
        profile.setdefault("experience", None)
        demo.people.append({"profile": profile, "post": None, "reserve": None, "leader": None})
        return len(demo.people) - 1

    # statuses: about 8% weak (软弱涣散), 5% special (重点村)
    for village in villages:
        roll = rng.random()
        if roll < 0.13:
            status = "weak" if roll < 0.08 else "special"
            demo.statuses.append({"village_id": village["id"], "status": status,
                                  "reason": "软弱涣散村党组织" if status == "weak" else "省级重点帮扶村",
                                  "decided_on": date(today.year, 1, 15)})
    status_of = {s["village_id"]: s["status"] for s in demo.statuses}

    # township secretaries
    for township in townships:
        member = (draw.take(rng.sample(institutions, len(institutions)), today, 56)
                  if institutions else None)
        if member is None:
            continue
        key = person(member, experience_years=rng.randint(12, 28),
                     experience="乡镇党委副书记、镇长")
        started = date(2021, rng.randint(6, 12), rng.randint(1, 28))
        demo.people[key]["post"] = {"role": "township_secretary", "unit_id": township["id"],
                                    "township_id": township["id"], "sent_by": None,
                                    "started_on": started, "ends_on": _end(started, 5),
                                    "reason": "乡镇党委换届"}
        _duties(rng, demo, key, township["id"], today)

    # village secretaries (a few vacancies) and first secretaries (a few gaps, terms ending)
    for village in villages:
        if rng.random() < 0.97:
            member = draw.take([village["id"]], today, 62)
            if member is not None:
                key = person(member, experience="村两委成员")
                started = date(rng.choice((2021, 2021, 2022, 2023, 2024)), rng.randint(1, 12),
                               rng.randint(1, 28))
                demo.people[key]["post"] = {
                    "role": "village_secretary", "unit_id": village["id"],
                    "township_id": village["township_id"], "sent_by": None, "started_on": started,
                    "ends_on": _end(started, 5), "reason": "村党组织换届选举"}
        if rng.random() < 0.97 and institutions:
            member = draw.take(rng.sample(institutions, min(5, len(institutions))), today, 50)
            if member is not None:
                key = person(member, experience="市直单位干部")
                started = today - timedelta(days=rng.randint(30, 700))
                sender = "city" if status_of.get(village["id"]) in ("weak", "special") else "township"
                demo.people[key]["post"] = {
                    "role": "first_secretary", "unit_id": village["id"],
                    "township_id": village["township_id"], "sent_by": sender,
                    "started_on": started, "ends_on": _end(started, 2),
                    "reason": "市委选派" if sender == "city" else "乡镇选派"}

    # reserve candidates: village members mostly, some activists and non-members
    leaders = []
    for _ in range(round(RESERVE * scale)):
        village = rng.choice(villages)
        member = draw.take([village["id"]], today, 55) if rng.random() < 0.85 else None
        key = person(member, experience="村务监督委员会成员" if rng.random() < 0.3 else None)
        demo.people[key]["reserve"] = {"township_id": village["township_id"],
                                       "village_id": village["id"],
                                       "added_on": today - timedelta(days=rng.randint(20, 900)),
                                       "note": rng.choice(("村委会委员", "致富能手", "退役军人",
                                                           "返乡大学生", None))}
    # wealth-creation leaders (some of whom are reserve candidates already)
    for _ in range(round(LEADERS * scale)):
        village = rng.choice(villages)
        member = draw.take([village["id"]], today, 65) if rng.random() < 0.6 else None
        key = person(member)
        demo.people[key]["leader"] = {"village_id": village["id"],
                                      "township_id": village["township_id"],
                                      "industry": rng.choice(INDUSTRIES),
                                      "households_helped": rng.randint(3, 80),
                                      "since": date(rng.randint(2008, today.year - 1),
                                                    rng.randint(1, 12), 1)}
        leaders.append(key)
    _enterprises(rng, demo, leaders, villages, today, scale)
    _training(rng, demo, today)
    demo.members = list(kept.values())
    return demo


def _birth(rng, today, youngest, oldest) -> date:
    return date(today.year - rng.randint(youngest, oldest), rng.randint(1, 12), rng.randint(1, 28))


def _end(started: date, years: int) -> date:
    try:
        return started.replace(year=started.year + years) - timedelta(days=1)
    except ValueError:
        return started.replace(year=started.year + years, day=28) - timedelta(days=1)


def _duties(rng, demo, key, township_id, today):
    year_start = date(today.year, 1, 1)
    problems = []
    for kind in ("responsibility", "problem", "rectification"):
        for number, title in enumerate(rng.sample(DUTIES[kind], rng.randint(3, 4))):
            created = year_start + timedelta(days=rng.randint(0, 40))
            deadline = created + timedelta(days=rng.randint(60, 330))
            status, done_on = "open", None
            if deadline < today:
                roll = rng.random()
                if roll < 0.65:
                    status, done_on = "done", deadline - timedelta(days=rng.randint(0, 30))
                elif roll < 0.8:
                    status, done_on = "done", min(today, deadline + timedelta(days=rng.randint(1, 20)))
                else:
                    status = rng.choice(("open", "in_progress"))
            elif rng.random() < 0.3:
                status = "in_progress"
            demo.duties.append({"person": key, "township_id": township_id, "list_kind": kind,
                                "title": title, "owner": rng.choice(SURNAMES) + rng.choice(GIVEN),
                                "deadline": deadline, "status": status, "done_on": done_on,
                                "created_on": created,
                                "problem": problems[number] if kind == "rectification"
                                and number < len(problems) else None})
            if kind == "problem":
                problems.append(len(demo.duties) - 1)
    for name in rng.sample(PROJECTS, rng.randint(2, 3)):
        started = year_start - timedelta(days=rng.randint(0, 300))
        status = rng.choice(("underway", "underway", "completed", "planned"))
        demo.projects.append({"person": key, "township_id": township_id, "name": name,
                              "goal": None, "started_on": started, "status": status,
                              "completed_on": min(today, started + timedelta(days=200))
                              if status == "completed" else None})
    demo.votes.append({"person": key, "year": today.year, "excellent": rng.randint(20, 40),
                       "good": rng.randint(5, 15), "fair": rng.randint(0, 5),
                       "poor": rng.randint(0, 2), "entered_by": "组织部 李明",
                       "entered_on": today})


def _enterprises(rng, demo, leaders, villages, today, scale):
    for number in range(round(COOPERATIVES * scale)):
        village = rng.choice(villages)
        leader = rng.choice(leaders) if leaders and rng.random() < 0.7 else None
        industry = (demo.people[leader]["leader"]["industry"] if leader is not None
                    else rng.choice(INDUSTRIES))
        demo.cooperatives.append({"name": f"{village['name'].replace('党支部', '')}{industry}专业合作社"
                                          f"（{number + 1:03d}）",
                                  "industry": industry, "village_id": village["id"],
                                  "township_id": village["township_id"], "leader": leader,
                                  "member_households": rng.randint(5, 150),
                                  "founded_on": date(rng.randint(2008, today.year - 1),
                                                     rng.randint(1, 12), 1)})
    for number in range(round(ZONES * scale)):
        if not leaders:
            break
        leader = rng.choice(leaders)
        details = demo.people[leader]["leader"]
        demo.zones.append({"name": f"{details['industry']}示范区（{number + 1:02d}）",
                           "industry": details["industry"], "township_id": details["township_id"],
                           "leader": leader,
                           "area_mu": Decimal(rng.randint(500, 30000)) / 10})
    for _ in range(round(SHOPS * scale)):
        if not leaders:
            break
        leader = rng.choice(leaders)
        details = demo.people[leader]["leader"]
        demo.shops.append({"leader": leader, "township_id": details["township_id"],
                           "platform": rng.choice(PLATFORMS),
                           "name": f"{details['industry']}{rng.choice(SURNAMES)}记小店",
                           "sales": {today.year - 1: Decimal(rng.randint(20000, 900000)),
                                     today.year: Decimal(rng.randint(10000, 800000))}})


def _training(rng, demo, today):
    demo.bases = [{"name": name, "location": location, "township_id": None}
                  for name, location in BASES]
    demo.courses = [{"title": title, "mode": mode, "hours": Decimal(hours)}
                    for title, mode, hours in COURSES]
    # a village secretary is called to training three times as often as a wealth leader, a
    # township secretary four, a first secretary twice: a weighted pool, drawn from without
    # repeating anyone in a session
    weight = {"township_secretary": 4, "village_secretary": 3, "first_secretary": 2}
    trainees = [key for key, p in enumerate(demo.people) if p["post"]
                for _ in range(weight[p["post"]["role"]])]
    trainees += [key for key, p in enumerate(demo.people) if p["leader"] and rng.random() < 0.3]
    if not trainees:
        return
    start = today - timedelta(days=364)
    for week in range(52):
        for _ in range(2):
            course = rng.randrange(len(demo.courses))
            held_on = start + timedelta(days=week * 7 + rng.randint(0, 6))
            if held_on >= today:
                continue
            demo.sessions.append({"course": course, "base": rng.randrange(len(demo.bases)),
                                  "held_on": held_on, "hours": demo.courses[course]["hours"]})
            session = len(demo.sessions) - 1
            drawn = rng.sample(trainees, min(len(trainees), rng.randint(35, 60)))
            for key in sorted(set(drawn), key=drawn.index):
                demo.attendance.append({"session": session, "person": key})
