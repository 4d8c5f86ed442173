"""A deterministic demo county modelled on Huanghua (黄骅市, Hebei) as the 2017 article describes it.

``generate(seed, month, scale)`` returns plain data only (lists of dicts holding str, int, bool,
``date``, ``Decimal`` and ``None``) so a loader can bulk-insert it; nothing here touches a
database, the bus or the global ``random`` state. Records refer to each other by stable string
keys, which the loader maps to database ids:

* org units: ``"c"`` (city committee), ``"t01"``..``"t10"`` (township / street committees),
  ``"t03-b017"`` (branch 17 under township 3), ``"c-b001"`` (branch directly under the city);
* members ``"m000001"``; volunteer teams ``"v0001"``; projects ``"v0001-p1"``.

Standard library only, so it can run anywhere (the constants below mirror
``shared.contracts.members`` and the unit tests check they still match).
Run ``python -m services.members.demo`` to print the summary of the default county.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from random import Random

from services.members import resident_id

ORG_KINDS = ("city_committee", "township_committee", "street_committee",
             "village_branch", "community_branch", "institution_branch", "nonpublic_branch")
ACTIVITY_KINDS = ("volunteer_service", "meeting", "study", "blood_donation", "donation",
                  "pairing", "community_report", "badge_wearing")
BRANCH_KINDS = ORG_KINDS[3:]
CATEGORY_OF_BRANCH = {"village_branch": "rural", "community_branch": "community",
                      "institution_branch": "institution", "nonpublic_branch": "nonpublic"}
MEETING_KINDS = ("branch_committee", "member_assembly", "group_meeting", "party_lesson")  # 三会一课
REGION = "130983"  # 黄骅市
OTHER_REGIONS = ("130921", "130925", "130981", "130984", "130902")  # 沧县 盐山 泊头 河间 新华区

# Article figures at scale 1.0.
TOWNSHIPS = 10
VILLAGES = 327
COMMUNITIES = 30
INSTITUTIONS = 25
NONPUBLIC = 20
MEMBERS = 20_000
TEAMS = 370
CITY_TEAMS = 3
TEAMS_PER_TOWNSHIP = 3
MEAN_BRANCH_SIZE = {"village_branch": 46, "community_branch": 57,
                    "institution_branch": 92, "nonpublic_branch": 50}

# (name, kind) - real Huanghua place names; the street committees are 街道党工委.
REAL_TOWNSHIPS = (
    ("黄骅镇", "township_committee"), ("旧城镇", "township_committee"),
    ("骅中街道", "street_committee"), ("羊二庄镇", "township_committee"),
    ("南排河镇", "township_committee"), ("骅东街道", "street_committee"),
    ("吕桥镇", "township_committee"), ("常郭镇", "township_committee"),
    ("骅西街道", "street_committee"), ("官庄乡", "township_committee"),
)
HUI_SHARE = {"羊二庄镇": 0.22}  # 羊二庄 was a Hui nationality township
DEFAULT_HUI_SHARE = 0.03
MAN_SHARE = 0.006

SURNAMES = (
    ("王", 71), ("李", 70), ("张", 68), ("刘", 54), ("陈", 30), ("杨", 31), ("赵", 30), ("黄", 15),
    ("周", 18), ("吴", 15), ("徐", 17), ("孙", 18), ("胡", 12), ("朱", 13), ("高", 16), ("林", 7),
    ("何", 8), ("郭", 14), ("马", 14), ("罗", 5), ("梁", 8), ("宋", 10), ("郑", 8), ("谢", 5),
    ("韩", 10), ("唐", 6), ("冯", 9), ("于", 9), ("董", 9), ("程", 5), ("曹", 6), ("袁", 4),
    ("邓", 3), ("许", 6), ("付", 5), ("沈", 3), ("曾", 2), ("彭", 3), ("吕", 6), ("苏", 5),
    ("卢", 4), ("蒋", 3), ("蔡", 3), ("贾", 7), ("丁", 5), ("魏", 6), ("薛", 4), ("叶", 2),
    ("阎", 4), ("孟", 6), ("齐", 5), ("田", 6), ("石", 5), ("崔", 6), ("姜", 4), ("常", 4),
    ("边", 3), ("庞", 3), ("白", 3), ("苗", 3), ("耿", 2), ("岳", 2), ("尹", 3), ("史", 3),
)
HUI_SURNAMES = (("马", 30), ("白", 10), ("穆", 8), ("杨", 8), ("沙", 5), ("哈", 4), ("丁", 6),
                ("刘", 6), ("李", 6), ("米", 3))
MALE_CHARS = "国建志明伟军强永海春德庆文华立忠东福宝成树金林义振涛磊鹏浩宇博勇刚峰辉新兴学胜利平俊杰亮超斌洪玉山卫民瑞长广"
FEMALE_CHARS = "秀英华玉兰芳丽红霞梅敏静燕艳娟春凤桂珍淑云莲琴洁婷雪慧颖倩佳悦欣晶爱荣萍丹"

VILLAGE_SEEDS = ("王徐庄", "张巨河", "赵家堡", "齐家务", "后唐堡", "前唐堡", "大辛堡", "小辛堡",
                 "冯家堡", "刘洪博", "歧口", "张会亭", "苗庄", "孔庄子", "李官庄", "大堤柳庄",
                 "小堤柳庄", "杨二庄", "贾象", "沈家庄")
VILLAGE_PREFIXES = ("", "", "", "", "", "东", "西", "南", "北", "前", "后", "大", "小", "新")
VILLAGE_SUFFIXES = ("庄", "庄", "家庄", "庄子", "家堡", "官庄", "家洼", "家务", "家铺", "家营",
                    "屯", "店", "河", "口", "坨", "圈", "家台", "桥", "集", "家码头")
COMMUNITY_WORDS = ("信誉楼", "渤海路", "新华路", "黄骅路", "华兴", "文化", "光明", "友谊", "振华",
                   "世纪花园", "建设路", "胜利", "福康", "东关", "西关", "南关", "北关", "朝阳",
                   "和平", "金都", "滨海", "长安", "康乐", "迎宾", "海丰", "盛世", "裕华", "学府",
                   "阳光", "幸福", "颐和", "书香")
NAME_CHARS = "华兴新安康福泰和盛丰昌荣鑫达宏远金海恒隆瑞顺宇博通诚信德"
CITY_UNITS = ("市委办公室", "市政府办公室", "市纪委监委", "市委组织部", "市委宣传部", "市教育局",
              "市财政局", "市公安局", "市卫生健康局", "市农业农村局", "市自然资源和规划局",
              "市人力资源和社会保障局", "市住房和城乡建设局", "市交通运输局", "市水务局",
              "市市场监督管理局", "市人民医院", "市中医医院", "市第一中学", "市第二中学",
              "市实验小学", "市职业技术教育中心", "市民政局", "市商务局", "市应急管理局",
              "市统计局", "市审计局", "市文化广电和旅游局")
INDUSTRIES = ("汽车配件", "模具", "五金制品", "冬枣加工", "水产食品", "海产品", "物流", "建材",
              "机械制造", "新能源", "盐化", "农业科技")
ASSOCIATIONS = ("个体劳动者协会", "汽车模具行业协会", "冬枣产业协会", "物流商会", "律师协会",
                "餐饮行业协会", "家政服务协会", "电子商务协会")
CITY_TEAM_NAMES = ("黄骅市党员志愿服务总队", "黄骅市渤海先锋志愿服务队", "黄骅市在职党员志愿服务队")
TOWNSHIP_TEAM_THEMES = ("党员先锋志愿服务队", "红色义工服务队", "巾帼志愿服务队", "银发志愿服务队",
                        "青年志愿服务队", "乡村振兴志愿服务队")
PROJECTS = ("暖心早餐", "农家书屋", "环境清扫", "助老助残", "爱心助学", "义务巡逻", "政策宣讲",
            "文明劝导", "义诊送医", "农技服务", "关爱留守儿童", "防汛值守", "海防宣传", "移风易俗",
            "代办服务")
PHONE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150",
                  "151", "152", "155", "156", "157", "158", "159", "166", "176", "177", "178",
                  "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199")

EDUCATION_LEVELS = ("primary", "junior_secondary", "senior_secondary", "vocational", "associate", "bachelor", "master")
# Weights per EDUCATION_LEVELS, by category and age band (under 40, 40-59, 60+).
EDUCATION_WEIGHTS = {
    "rural": ((2, 30, 20, 12, 20, 15, 1), (10, 50, 20, 8, 8, 4, 0), (30, 45, 17, 5, 2, 1, 0)),
    "community": ((0, 8, 15, 10, 30, 33, 4), (4, 28, 28, 12, 16, 11, 1), (15, 38, 27, 10, 6, 4, 0)),
    "institution": ((0, 0, 1, 2, 12, 68, 17), (0, 1, 4, 6, 22, 60, 7), (2, 8, 15, 12, 30, 30, 3)),
    "nonpublic": ((0, 8, 15, 17, 30, 28, 2), (2, 22, 25, 17, 20, 13, 1), (8, 35, 30, 12, 10, 5, 0)),
}
MALE_SHARE = {"rural": 0.74, "community": 0.6, "institution": 0.62, "nonpublic": 0.66}
AGE_SHAPE = {"rural": (20, 85, 62), "community": (20, 85, 64),  # triangular (low, high, mode)
             "institution": (21, 60, 42), "nonpublic": (20, 60, 36)}
PROBATIONARY_SHARE = 0.03
PLAQUE_SHARE = {"rural": 0.80, "community": 0.45, "institution": 0.15, "nonpublic": 0.15}

# Monthly activity probabilities.
P_VOLUNTEER = 0.56            # per member under 70; 0.25 from 70 (overall ~50%)
P_VOLUNTEER_OLD = 0.25
P_ATTEND = 0.92               # attended=True for an invited member
P_ASSEMBLY = 0.4              # a branch holds its (quarterly) member assembly this month
P_LESSON = 0.4                # a branch holds its (quarterly) party lesson this month
P_STUDY = 0.45
P_BLOOD = 0.012               # ages 18-60 only
P_DONATION = 0.05
DONATION_AMOUNTS = ((50, 20), (100, 35), (200, 20), (300, 8), (500, 10), (1000, 5), (2000, 2))
P_PAIRING = {"rural": 0.06, "community": 0.08, "institution": 0.25, "nonpublic": 0.05}
P_REPORT = {"community": 0.45, "institution": 0.7}
P_BADGE = 0.62
HOURS = tuple(Decimal(h) for h in ("1", "1.5", "2", "2.5", "3", "3.5", "4"))
HOURS_WEIGHTS = (20, 15, 25, 12, 15, 5, 8)


@dataclass
class DemoCounty:
    org_units: list[dict] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def township_of(county: DemoCounty) -> dict[str, str | None]:
    """Org-unit key -> key of its township/street committee (None for the city and city-level units)."""
    units = {u["key"]: u for u in county.org_units}
    found = {}
    for key, unit in units.items():
        node = unit
        while node is not None and node["kind"] not in ("township_committee", "street_committee"):
            node = units.get(node["parent_key"]) if node["parent_key"] else None
        found[key] = node["key"] if node else None
    return found


def _count(base: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(base * scale))


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split ``total`` over ``weights`` (largest remainder), each share at least ``minimum``."""
    total = max(total, minimum * len(weights))
    spare = total - minimum * len(weights)
    whole = sum(weights)
    raw = [spare * w / whole for w in weights]
    shares = [int(r) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - raw[i], i))
    for i in order[:spare - sum(shares)]:
        shares[i] += 1
    return [s + minimum for s in shares]


class _Unique:
    """Draws names until an unused one comes up (falls back to numbering; never loops forever)."""

    def __init__(self, rng: Random):
        self.rng, self.used = rng, set()

    def take(self, draw, fallback: str) -> str:
        for _ in range(50):
            name = draw()
            if name not in self.used:
                break
        else:
            n = 2
            while f"{fallback}{n}" in self.used:
                n += 1
            name = f"{fallback}{n}"
        self.used.add(name)
        return name


def _org_tree(rng: Random, scale: float) -> tuple[list[dict], dict[str, str]]:
    """Org units plus, for every branch key, the place name its volunteer team is called after."""
    units = [{"key": "c", "parent_key": None, "kind": "city_committee", "name": "黄骅市委"}]
    n_townships = _count(TOWNSHIPS, scale)
    names = _Unique(rng)
    townships = []  # (key, place name, kind)
    for i in range(n_townships):
        if i < len(REAL_TOWNSHIPS):
            place, kind = REAL_TOWNSHIPS[i]
            names.used.add(place)
        else:
            kind = "street_committee" if i % 3 == 2 else "township_committee"
            suffix = "街道" if kind == "street_committee" else "镇"
            place = names.take(lambda: rng.choice(NAME_CHARS) + rng.choice(NAME_CHARS) + suffix,
                               "新区" + suffix)
        key = f"t{i + 1:02d}"
        townships.append((key, place, kind))
        units.append({"key": key, "parent_key": "c", "kind": kind,
                      "name": place + ("党工委" if kind == "street_committee" else "党委")})
    streets = [t for t in townships if t[2] == "street_committee"] or townships

    # Branches per township, in order villages, communities, institutions, non-public.
    per_township: dict[str, list[tuple[str, str, str]]] = {t[0]: [] for t in townships}
    city_level: list[tuple[str, str, str]] = []
    place_of: dict[str, str] = {}

    village_weights = [rng.uniform(0.7, 1.3) * (1.0 if t[2] == "township_committee" else 0.3)
                       for t in townships]
    if all(t[2] == "street_committee" for t in townships):
        village_weights = [1.0] * len(townships)
    villages = _allocate(_count(VILLAGES, scale), village_weights, 0)
    seeds = list(VILLAGE_SEEDS)

    def village_name():
        if seeds:
            return seeds.pop(0)
        return (rng.choice(VILLAGE_PREFIXES) + _weighted(rng, SURNAMES_CUM)
                + rng.choice(VILLAGE_SUFFIXES))

    for (tkey, _, _), n in zip(townships, villages):
        for _ in range(n):
            v = names.take(village_name, "新村")
            per_township[tkey].append(("village_branch", v + "村党支部", v))

    community_names = list(COMMUNITY_WORDS)
    rng.shuffle(community_names)
    for i in range(_count(COMMUNITIES, scale)):
        tkey = streets[i % len(streets)][0]
        word = names.take(lambda: community_names.pop() if community_names else
                          rng.choice(NAME_CHARS) + rng.choice(NAME_CHARS) + rng.choice("苑里园"), "新区")
        per_township[tkey].append(("community_branch", word + "社区党支部", word + "社区"))

    n_inst = _count(INSTITUTIONS, scale)
    n_inst_town = min(len(townships), round(n_inst * 0.4))
    for tkey, place, _ in townships[:n_inst_town]:
        per_township[tkey].append(("institution_branch", place + "机关党支部", place + "机关"))
    city_units = list(CITY_UNITS)
    for i in range(n_inst - n_inst_town):
        unit = names.take(lambda: city_units.pop(0) if city_units else
                          "市" + rng.choice(NAME_CHARS) + rng.choice(NAME_CHARS) + "中心", "市直单位")
        tail = "党支部" if unit.endswith(("医院", "中学", "小学", "中心")) else "机关党支部"
        city_level.append(("institution_branch", unit + tail, unit))

    for i in range(_count(NONPUBLIC, scale)):
        tkey = townships[rng.randrange(len(townships))][0]
        if rng.random() < 0.2:
            org = names.take(lambda: "黄骅市" + rng.choice(ASSOCIATIONS), "黄骅市社会组织")
        else:
            org = names.take(lambda: "黄骅市" + rng.choice(NAME_CHARS) + rng.choice(NAME_CHARS)
                             + rng.choice(INDUSTRIES) + "有限公司", "黄骅市企业")
        per_township[tkey].append(("nonpublic_branch", org + "党支部", org))

    for tkey, _, _ in townships:
        for j, (kind, name, place) in enumerate(per_township[tkey], 1):
            key = f"{tkey}-b{j:03d}"
            units.append({"key": key, "parent_key": tkey, "kind": kind, "name": name})
            place_of[key] = place
    for j, (kind, name, place) in enumerate(city_level, 1):
        key = f"c-b{j:03d}"
        units.append({"key": key, "parent_key": "c", "kind": kind, "name": name})
        place_of[key] = place
    return units, place_of


def _cum(pairs) -> tuple[tuple, list[float]]:
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return tuple(values), cum


SURNAMES_CUM = _cum(SURNAMES)
HUI_SURNAMES_CUM = _cum(HUI_SURNAMES)
DONATIONS_CUM = _cum((Decimal(a), w) for a, w in DONATION_AMOUNTS)
HOURS_CUM = _cum(zip(HOURS, HOURS_WEIGHTS))
EDUCATION_CUM = {cat: tuple(_cum(zip(EDUCATION_LEVELS, band))[1] for band in bands)
                 for cat, bands in EDUCATION_WEIGHTS.items()}


def _weighted(rng: Random, cum_pair) -> object:
    values, cum = cum_pair
    return rng.choices(values, cum_weights=cum)[0]


def _place(unit: dict) -> str:
    """"旧城镇党委" -> "旧城镇", "骅中街道党工委" -> "骅中街道"."""
    return unit["name"].removesuffix("党工委").removesuffix("党委")


def _unused_id(rng: Random, used: set[str], region: str, born: date, gender: str) -> str:
    """A resident ID not in ``used`` (which it joins); only 100 exist per region, day and gender,
    so when those run out the number is issued under another Cangzhou region code."""
    start = rng.randrange(100)
    for code in (region, REGION) + OTHER_REGIONS:
        for k in range(100):
            candidate = resident_id.make(code, born, (start + k * 37) % 100, gender)
            if candidate not in used:
                used.add(candidate)
                return candidate
    raise RuntimeError(f"no resident ID left for {born} {gender}")


def _members(rng: Random, units: list[dict], scale: float, month_end: date) -> list[dict]:
    by_key = {u["key"]: u for u in units}
    branches = [u for u in units if u["kind"] in BRANCH_KINDS]
    target = round(MEMBERS * scale * rng.uniform(0.98, 1.02))
    weights = [MEAN_BRANCH_SIZE[b["kind"]] * rng.uniform(0.5, 1.5) for b in branches]
    sizes = _allocate(target, weights, 3)
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    members = []
    newest_full = month_end - timedelta(days=366)
    n = 0
    for branch, size in zip(branches, sizes):
        category = CATEGORY_OF_BRANCH[branch["kind"]]
        parent = by_key[branch["parent_key"]]
        hui = HUI_SHARE.get(_place(parent), DEFAULT_HUI_SHARE)
        low, high, mode = AGE_SHAPE[category]
        male_share = MALE_SHARE[category]
        plaque = PLAQUE_SHARE[category]
        edu_bands = EDUCATION_CUM[category]
        for _ in range(size):
            n += 1
            probationary = rng.random() < PROBATIONARY_SHARE
            gender = "male" if rng.random() < male_share else "female"
            r = rng.random()
            ethnicity = "回族" if r < hui else "满族" if r < hui + MAN_SHARE else "汉族"
            surname = _weighted(rng, HUI_SURNAMES_CUM if ethnicity == "回族" else SURNAMES_CUM)
            chars = MALE_CHARS if gender == "male" else FEMALE_CHARS
            given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
            age = int(rng.triangular(20, 45, 27) if probationary else rng.triangular(low, high, mode))
            age = min(85, max(20, age))
            # Born so that the member is exactly ``age`` on the last day of the month.
            latest_birth = add_years(month_end, -age)
            born = latest_birth - timedelta(days=rng.randrange(365))
            region = REGION if rng.random() < 0.94 else rng.choice(OTHER_REGIONS)
            rid = _unused_id(rng, used_ids, region, born, gender)
            adult = add_years(born, 18)
            if probationary:
                join = month_end - timedelta(days=rng.randrange(365))
            else:
                span = (newest_full - adult).days
                join = adult + timedelta(days=int(span * rng.betavariate(1.6, 3.5)))
            phone = None
            while phone is None or phone in used_phones:
                phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
            used_phones.add(phone)
            band = 0 if age < 40 else 1 if age < 60 else 2
            members.append({
                "key": f"m{n:06d}",
                "branch_key": branch["key"],
                "name": surname + given,
                "gender": gender,
                "ethnicity": ethnicity,
                "birth_date": born,
                "resident_id": rid,
                "phone": phone,
                "education": rng.choices(EDUCATION_LEVELS, cum_weights=edu_bands[band])[0],
                "join_date": join,
                "status": "probationary" if probationary else "full",
                "household_plaque": rng.random() < plaque,
            })
    return members


def _teams(rng: Random, units: list[dict], place_of: dict[str, str], scale: float):
    teams, projects = [], []
    townships = [u for u in units if u["kind"] in ("township_committee", "street_committee")]
    branches = [u for u in units if u["kind"] in BRANCH_KINDS]
    n_city = round(CITY_TEAMS * scale)
    plan = []  # (name, township_key, branch_key)
    for i in range(n_city):
        name = CITY_TEAM_NAMES[i] if i < len(CITY_TEAM_NAMES) else f"黄骅市党员志愿服务{i + 1}队"
        plan.append((name, None, None))
    for t in townships:
        place = _place(t)
        for theme in rng.sample(TOWNSHIP_TEAM_THEMES, TEAMS_PER_TOWNSHIP):
            plan.append((place + theme, t["key"], None))
    n_branch = min(len(branches), max(1, _count(TEAMS, scale) - len(plan)))
    chosen = sorted(rng.sample(range(len(branches)), n_branch))
    for i in chosen:
        b = branches[i]
        tkey = b["parent_key"] if b["parent_key"] != "c" else None
        plan.append((place_of[b["key"]] + "党员志愿服务队", tkey, b["key"]))
    for n, (name, tkey, bkey) in enumerate(plan, 1):
        key = f"v{n:04d}"
        teams.append({"key": key, "name": name, "township_key": tkey, "branch_key": bkey})
        for j, project in enumerate(rng.sample(PROJECTS, rng.randint(1, 3)), 1):
            projects.append({"key": f"{key}-p{j}", "team_key": key, "name": project})
    return teams, projects


def _random_day(rng: Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _activities(rng: Random, units, members, teams, projects, first: date, last: date) -> list[dict]:
    by_key = {u["key"]: u for u in units}
    projects_of: dict[str, list[str]] = {}
    for p in projects:
        projects_of.setdefault(p["team_key"], []).append(p["name"])
    city_teams = [t["key"] for t in teams if t["township_key"] is None and t["branch_key"] is None]
    township_teams: dict[str, list[str]] = {}
    branch_teams: dict[str, list[str]] = {}
    for t in teams:
        if t["branch_key"]:
            branch_teams.setdefault(t["branch_key"], []).append(t["key"])
        elif t["township_key"]:
            township_teams.setdefault(t["township_key"], []).append(t["key"])
    all_township_teams = [k for keys in township_teams.values() for k in keys]

    # Each branch's meetings of the month: (kind, day, invited member keys).
    by_branch: dict[str, list[dict]] = {}
    for m in members:
        by_branch.setdefault(m["branch_key"], []).append(m)
    meetings: dict[str, list[tuple[str, date]]] = {}
    committee: set[str] = set()
    for bkey, ms in by_branch.items():
        held = [("group_meeting", _random_day(rng, first, last)),
                ("branch_committee", _random_day(rng, first, last))]
        if rng.random() < P_ASSEMBLY:
            held.append(("member_assembly", _random_day(rng, first, last)))
        if rng.random() < P_LESSON:
            held.append(("party_lesson", _random_day(rng, first, last)))
        meetings[bkey] = held
        full = [m["key"] for m in ms if m["status"] == "full"]
        committee.update(full[:min(len(full), rng.randint(3, 7))])

    rows = []

    def row(member_key, kind, day, **extra):
        r = {"member_key": member_key, "kind": kind, "occurred_on": day, "hours": None,
             "team_key": None, "project": None, "meeting_kind": None, "attended": None,
             "amount": None, "households": None}
        r.update(extra)
        rows.append(r)

    for m in members:
        mkey = m["key"]
        branch = by_key[m["branch_key"]]
        category = CATEGORY_OF_BRANCH[branch["kind"]]
        start = max(first, m["join_date"])
        age = last.year - m["birth_date"].year - ((last.month, last.day) <
                                                  (m["birth_date"].month, m["birth_date"].day))
        tkey = branch["parent_key"] if branch["parent_key"] != "c" else None
        if rng.random() < (P_VOLUNTEER if age < 70 else P_VOLUNTEER_OLD):
            own = branch_teams.get(branch["key"], [])
            near = township_teams.get(tkey, []) if tkey else all_township_teams
            for _ in range(rng.randint(1, 3)):
                r = rng.random()
                pool = own if own and r < 0.65 else near if near and r < 0.95 else city_teams
                pool = pool or own or near or city_teams
                if not pool:
                    break
                team = rng.choice(pool)
                row(mkey, "volunteer_service", _random_day(rng, start, last),
                    hours=_weighted(rng, HOURS_CUM), team_key=team,
                    project=rng.choice(projects_of[team]))
        for kind, day in meetings[m["branch_key"]]:
            if day < m["join_date"] or (kind == "branch_committee" and mkey not in committee):
                continue
            row(mkey, "meeting", day, meeting_kind=kind, attended=rng.random() < P_ATTEND)
        if rng.random() < P_STUDY:
            for _ in range(rng.randint(1, 2)):
                row(mkey, "study", _random_day(rng, start, last),
                    attended=rng.random() < 0.95)
        if age <= 60 and rng.random() < P_BLOOD:
            row(mkey, "blood_donation", _random_day(rng, start, last))
        if rng.random() < P_DONATION:
            row(mkey, "donation", _random_day(rng, start, last), amount=_weighted(rng, DONATIONS_CUM))
        if rng.random() < P_PAIRING[category]:
            row(mkey, "pairing", _random_day(rng, start, last), households=rng.randint(1, 3))
        if category in P_REPORT and rng.random() < P_REPORT[category]:
            row(mkey, "community_report", _random_day(rng, start, last))
        if rng.random() < P_BADGE:
            row(mkey, "badge_wearing", _random_day(rng, start, last))
    rows.sort(key=lambda r: (r["occurred_on"], r["member_key"]))  # stable: kind order kept
    return rows


def generate(seed: int = 2017, month: tuple[int, int] = (2026, 10), scale: float = 1.0) -> DemoCounty:
    """Build the demo county for ``seed``; activities fall inside ``month`` (year, month)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    year, mon = month
    first = date(year, mon, 1)
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    rng = Random(seed)
    units, place_of = _org_tree(rng, scale)
    members = _members(rng, units, scale, last)
    teams, projects = _teams(rng, units, place_of, scale)
    activities = _activities(rng, units, members, teams, projects, first, last)
    return DemoCounty(org_units=units, members=members, teams=teams, projects=projects,
                      activities=activities)


def summary(county: DemoCounty) -> dict:
    """Flat counts for printing."""
    out = {kind: 0 for kind in ORG_KINDS}
    for u in county.org_units:
        out[u["kind"]] += 1
    out["townships"] = out["township_committee"] + out["street_committee"]
    out["branches"] = sum(out[k] for k in BRANCH_KINDS)
    out["members"] = len(county.members)
    out["probationary"] = sum(m["status"] == "probationary" for m in county.members)
    out["male"] = sum(m["gender"] == "male" for m in county.members)
    out["household_plaques"] = sum(m["household_plaque"] for m in county.members)
    out["teams"] = len(county.teams)
    out["projects"] = len(county.projects)
    out["activities"] = len(county.activities)
    for kind in ACTIVITY_KINDS:
        out[f"activity.{kind}"] = 0
    for a in county.activities:
        out[f"activity.{a['kind']}"] += 1
    out["volunteers"] = len({a["member_key"] for a in county.activities
                             if a["kind"] == "volunteer_service"})
    return out


if __name__ == "__main__":  # pragma: no cover
    import sys
    import time

    began = time.perf_counter()
    result = generate(scale=float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
    for name, value in summary(result).items():
        print(f"{name:32} {value}")
    print(f"{'seconds':32} {time.perf_counter() - began:.2f}")
