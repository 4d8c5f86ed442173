"""A year of village major matters for the demo county (pure and deterministic).

``plan(villages, today, rules, scale, seed)`` returns one script per matter: the proposal and the
actions that followed it in the order they happened (steps, progress updates, sign-offs,
objections and their answers), in the shape the service's functions take after their input
schemas. The article reports 770 village decisions in a year across 327 villages; at scale 1.0
that many matters are proposed on days spread over the last 365 days and each is walked as far
as today allows, so the recent ones are still under way. A few are voted down (ending or
returning, as the rules say) and a few carry a violation recorded as it happened: a short
notice period (minor), execution before the resolution, a meeting without quorum (major)."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from random import Random

MATTERS_PER_YEAR = 770
ITEM_WEIGHTS = {
    "major_spending": 18, "project_bidding": 11, "land_contracting": 9, "beautiful_village": 8,
    "asset_disposal": 5, "poor_households": 8, "subsistence_households": 8,
    "member_development": 6, "seal_use": 4, "homestead": 5, "relief_distribution": 3,
    "village_regulations": 2, "fundraising": 3, "land_compensation": 2,
    "collective_borrowing": 1, "cadre_compensation": 2, "party_fee_use": 2,
    "member_appraisal": 2, "other_major": 1}
AMOUNTS = {"major_spending": (5_000, 300_000), "project_bidding": (20_000, 900_000),
           "asset_disposal": (10_000, 400_000), "party_fee_use": (500, 8_000),
           "land_compensation": (50_000, 2_000_000), "collective_borrowing": (50_000, 500_000),
           "land_contracting": (10_000, 300_000), "beautiful_village": (30_000, 600_000),
           "cadre_compensation": (5_000, 40_000), "relief_distribution": (2_000, 50_000),
           "fundraising": (5_000, 80_000), "other_major": (5_000, 100_000)}
TITLES = {
    "major_spending": ["购置垃圾清运车", "村内排水沟清淤", "村委会办公用房维修", "安装太阳能路灯",
                       "文化广场健身器材购置"],
    "project_bidding": ["村内主街道硬化", "农田水利灌溉渠改造", "自来水管网改造", "村小学围墙新建"],
    "land_contracting": ["集体机动地对外发包", "坑塘承包经营", "集体林地流转"],
    "beautiful_village": ["村庄绿化美化", "街道立面改造", "公共厕所改建"],
    "asset_disposal": ["闲置村办厂房出租", "报废农机具处置", "集体苇田经营权拍卖"],
    "poor_households": ["年度贫困户识别", "贫困户动态调整"],
    "subsistence_households": ["低保户年度评议", "五保供养对象确定"],
    "member_development": ["确定发展对象", "预备党员接收"],
    "party_fee_use": ["党员活动室设备购置", "七一慰问困难党员"],
    "member_appraisal": ["年度民主评议党员"],
    "seal_use": ["出具土地确权证明用印", "合作社注册用印"],
    "village_regulations": ["修订村规民约", "制定红白理事会章程"],
    "collective_borrowing": ["村集体举债修路"],
    "cadre_compensation": ["村干部误工补贴标准"],
    "homestead": ["宅基地申请审核"],
    "relief_distribution": ["冬季救助物资发放", "汛期受灾救助款发放"],
    "land_compensation": ["高速公路征地补偿款分配"],
    "fundraising": ["一事一议修建生产路", "一事一议打机井"],
    "other_major": ["村级组织换届选举筹备"],
}
RECORDERS = ("王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
SUPERVISORS = ("孙立", "周平", "吴霞", "郑华")
MEETING_SIZES = {"branch_committee": (3, 7), "joint_meeting": (7, 11), "party_assembly": (20, 75),
                 "representatives_meeting": (25, 60), "villagers_meeting": (300, 1200)}


def _hash(*parts) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8")).hexdigest()


class _Script:
    """One matter's actions, dated, stopping at ``today``."""

    def __init__(self, rng: Random, rules, today: date, key: str):
        self.rng, self.rules, self.today, self.key = rng, rules, today, key
        self.actions: list[tuple[str, dict]] = []

    def fits(self, day: date) -> bool:
        return day < self.today

    def meeting(self, form: str, quorate=True, adopt=True) -> dict:
        low, high = MEETING_SIZES[form]
        members = self.rng.randint(low, high)
        rule = self.rules.meetings[form]
        needed = rule.quorum.needed(members)
        present = self.rng.randint(min(needed, members), members) if quorate \
            else max(needed - self.rng.randint(1, 3), 0)
        whole = present if rule.majority_of == "present" else members
        votes_needed = rule.majority.needed(whole)
        if adopt:
            votes_for = self.rng.randint(min(votes_needed, present), present)
        else:
            votes_for = self.rng.randint(0, max(min(votes_needed - 1, present), 0))
        against = self.rng.randint(0, present - votes_for)
        return {"form": form, "attendance": {"members": members, "present": present},
                "votes": {"votes_for": votes_for, "against": against,
                          "abstain": self.rng.randint(0, present - votes_for - against)}}

    def evidence(self, step: str, kind: str, name: str) -> dict:
        return {"kind": kind, "name": name, "content_base64": None, "media_type": None,
                "reference": f"村档案室 {self.key}-{step}", "sha256": _hash(self.key, step, kind),
                "step": None}

    def step(self, step: str, day: date, as_happened=False, sign=True, **fields):
        rule = self.rules.steps[step]
        evidence = []
        if rule.kind == "meeting":
            evidence = [self.evidence(step, "minutes", f"{rule.name}会议记录"),
                        self.evidence(step, "sign_in_sheet", f"{rule.name}签到表")]
        elif rule.kind == "execution":
            evidence = [self.evidence(step, "photo", "施工现场照片")]
        self.actions.append(("step", {
            "step": step, "on": day, "form": None, "attendance": None, "votes": None,
            "notice_days": None, "channels": None, "note": None, "as_happened": as_happened,
            "recorded_by": self.rng.choice(RECORDERS), "evidence": evidence, **fields}))
        if sign and rule.kind != "acceptance":
            signed = day + timedelta(days=self.rng.randint(0, 2))
            if self.fits(signed):
                self.actions.append(("sign_off", {"step": step, "on": signed, "note": None,
                                                  "signed_by": self.rng.choice(SUPERVISORS)}))


def _amount(rng: Random, item) -> Decimal | None:
    if item.amount == "none" or (item.amount == "optional" and rng.random() < 0.4):
        return None
    low, high = AMOUNTS.get(item.code, (1_000, 100_000))
    return Decimal(rng.randint(low // 100, high // 100) * 100).quantize(Decimal("0.01"))


def _fate(rng: Random) -> str:
    roll = rng.random()
    for fate, share in (("rejected", 0.03), ("notice_short", 0.025),
                        ("before_resolution", 0.008), ("no_quorum", 0.007)):
        if roll < share:
            return fate
        roll -= share
    return "regular"


def _execution(rules, proc) -> str:
    return next(s for s in proc.steps if rules.steps[s].kind == "execution")


def _channels(rng: Random, rules) -> list[str]:
    return sorted(rng.sample(list(rules.channels), rng.randint(1, min(3, len(rules.channels)))))


def _execute(script: _Script, started: date) -> date | None:
    """Progress updates (and perhaps an objection and its answer) until 100 %: the day all of
    it was done, or None when execution is still under way today."""
    rng = script.rng
    duration, last = rng.randint(15, 120), started
    for percent in (30, 70, 100):
        day = started + timedelta(days=duration * percent // 100)
        if not script.fits(day):
            return None
        script.actions.append(("progress", {"on": day, "percent": percent,
                                            "note": f"已完成 {percent}%",
                                            "recorded_by": rng.choice(RECORDERS)}))
        last = max(last, day)
        if percent == 70 and rng.random() < 0.08:
            script.actions.append(("objection", {"step": None, "raised_on": day,
                                                 "raised_by": rng.choice(SUPERVISORS),
                                                 "reason": "工程质量需复核"}))
            answered = day + timedelta(days=rng.randint(3, 12))
            if not script.fits(answered):
                return None
            script.actions.append(("answer", {"answered_on": answered,
                                              "answered_by": rng.choice(RECORDERS),
                                              "answer": "已组织复核并整改"}))
            last = max(last, answered)
    return last


def _walk(script: _Script, proc, proposed_on: date, fate: str) -> str:
    """Script the steps after the proposal as far as today allows; returns how far it got."""
    rng, rules = script.rng, script.rules
    execution = _execution(rules, proc)
    steps = list(proc.steps)
    meetings = [s for s in steps[1:] if rules.steps[s].kind == "meeting"]
    rejected_at = rng.choice(meetings) if fate == "rejected" else None
    deciding = rules.meetings[rules.steps[rules.deciding_step(proc)].meetings[0]]
    short_quorum_at = rules.deciding_step(proc) \
        if fate == "no_quorum" and deciding.majority_of == "present" else None
    day, position = proposed_on, 1
    while position < len(steps):
        step = steps[position]
        rule = rules.steps[step]
        resolution = rule.kind == "publication" and proc.index(step) < proc.index(execution)
        if rule.kind == "meeting":
            day += timedelta(days=rng.randint(3, 12))
            if not script.fits(day):
                return step
            adopt, quorate = step != rejected_at, step != short_quorum_at
            form = rule.meetings[-1] if len(rule.meetings) > 1 and rng.random() < 0.1 \
                else rule.meetings[0]
            script.step(step, day, as_happened=not quorate, sign=adopt,
                        **script.meeting(form, quorate, adopt))
            if not adopt:
                rejected_at = None
                if rule.on_rejection == "end":
                    return "ended"
                position = steps.index(proc.before(step)[-1])
                continue
        elif resolution and fate == "before_resolution":
            day += timedelta(days=rng.randint(1, 3))          # executed first, published late
            if not script.fits(day):
                return step
            script.step(execution, day, as_happened=True)
            published = day + timedelta(days=rng.randint(2, 6))
            if not script.fits(published):
                return step
            script.step(step, published, notice_days=rule.notice_days,
                        channels=_channels(rng, rules))
            finished = _execute(script, day)
            if finished is None:
                return "executing"
            day, position = max(finished, published), steps.index(execution) + 1
            continue
        elif rule.kind == "publication":
            day += timedelta(days=rng.randint(1, 3))
            if not script.fits(day):
                return step
            short = resolution and fate == "notice_short"
            script.step(step, day, as_happened=short,
                        notice_days=3 if short else rule.notice_days + rng.randint(0, 3),
                        channels=_channels(rng, rules))
        elif rule.kind == "execution":
            early = fate == "notice_short"
            notice = rules.steps[steps[position - 1]].notice_days
            day += timedelta(days=rng.randint(3, 5) if early else notice + rng.randint(0, 10))
            if not script.fits(day):
                return step
            script.step(step, day, as_happened=early)
            finished = _execute(script, day)
            if finished is None:
                return "executing"
            day = finished
        else:                                               # the acceptance
            day += timedelta(days=rules.steps[steps[position - 1]].notice_days + rng.randint(1, 15))
            if not script.fits(day):
                return step
            script.step(step, day, note="验收合格")
        position += 1
    return "completed"


def plan(villages: list[dict], today: date, rules, scale: float = 1.0, seed: int = 2017) -> list[dict]:
    """Scripts for a year of matters across ``villages`` (dicts with ``id`` and ``name``)."""
    rng = Random(seed)
    items = [rules.items[code] for code in ITEM_WEIGHTS if code in rules.items]
    weights = [ITEM_WEIGHTS[item.code] for item in items]
    total = max(1, round(MATTERS_PER_YEAR * scale))
    scripts = []
    for number in range(total):
        village = villages[number % len(villages)] if number < len(villages) else rng.choice(villages)
        item = rng.choices(items, weights)[0]
        amount = _amount(rng, item)
        proc = rules.procedure_for(item.code, amount)
        proposed_on = today - timedelta(days=rng.randint(1, 365))
        script = _Script(rng, rules, today, f"{village['id']}-{number}")
        proposal = {"branch_id": village["id"], "item": item.code,
                    "title": rng.choice(TITLES.get(item.code, ["村级重大事项"])),
                    "description": f"{village['name']}{rules.items[item.code].name}",
                    "amount": amount, "proposed_on": proposed_on,
                    "recorded_by": rng.choice(RECORDERS),
                    **script.meeting(rules.steps[proc.steps[0]].meetings[0]),
                    "evidence": [script.evidence(proc.steps[0], "minutes", "支委会会议记录")]}
        script.actions.append(("sign_off", {"step": proc.steps[0], "note": None,
                                            "on": proposed_on, "signed_by": rng.choice(SUPERVISORS)}))
        reached = _walk(script, proc, proposed_on, _fate(rng))
        scripts.append({"proposal": proposal, "actions": script.actions, "reached": reached})
    return scripts
