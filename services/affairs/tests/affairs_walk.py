"""Helpers for the affairs tests: the service's methods on a real database without nameko, and a
matter walked through its procedure on valid days."""
import json
from datetime import date, timedelta

from sqlalchemy import func, select

from services.affairs import matters, powerlist
from services.affairs.service import AffairsService
from shared import config as config_module

TODAY = date.today()
TOWNSHIP = {"org_unit_id": 2, "parent_id": 1, "township_id": 2, "kind": "township_committee",
            "name": "旧城镇党委"}
VILLAGE = {"org_unit_id": 12, "parent_id": 2, "township_id": 2, "kind": "village_branch",
           "name": "前辛庄村党支部"}
OTHER_VILLAGE = {"org_unit_id": 13, "parent_id": 2, "township_id": 2, "kind": "village_branch",
                 "name": "后辛庄村党支部"}


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def meeting(members, present, votes_for, against=0, abstain=0) -> dict:
    return {"attendance": {"members": members, "present": present},
            "votes": {"for": votes_for, "against": against, "abstain": abstain}}


def local(url, evidence_folder, **overrides):
    """An ``AffairsService`` whose methods run on the database at ``url`` (no broker): what a
    worker would get, with the rules of ``config/affairs.yaml`` plus ``overrides``."""
    service = AffairsService()
    service.store = AffairsService.store.handle(url)
    defaults = config_module.load_yaml("affairs.yaml")
    service.rules = powerlist.load_rules(powerlist.merged(
        powerlist.merged(defaults, {"evidence": {"folder": str(evidence_folder)}}), overrides))
    with service.store.transaction() as session:
        for unit in (TOWNSHIP, VILLAGE, OTHER_VILLAGE):
            matters.learn_unit(session, unit)
    return service


def proposal(**changes) -> dict:
    return {"branch_id": 12, "item": "major_spending", "title": "村内主街道硬化",
            "description": "硬化主街道 1.2 公里", "amount": "86000.00", "proposed_on": ago(100),
            "recorded_by": "王书记", **meeting(5, 5, 5), **changes}


STEP_DATA = {
    "proposal": meeting(5, 5, 4, 1),
    "joint_meeting": meeting(9, 8, 7, 1),
    "party_assembly": meeting(40, 30, 25, 3, 2),
    "villagers_assembly": {"form": "representatives_meeting", **meeting(45, 31, 27, 2, 2)},
    "resolution_published": {"notice_days": 7, "channels": ["board", "qr_code"], "note": "决议公告"},
    "execution": {"note": "村委会组织施工"},
    "implementation_published": {"notice_days": 7, "note": "实施结果公告"},
    "acceptance": {"note": "验收合格"},
}
# Days ago of each step of a matter proposed 100 days ago (notice periods respected).
DAYS = {"proposal": 100, "joint_meeting": 95, "party_assembly": 90, "villagers_assembly": 85,
        "resolution_published": 84, "execution": 76, "implementation_published": 49,
        "acceptance": 40}
FINISHED_DAYS_AGO = 50


class Walk:
    """One matter taken through its procedure step by step."""

    def __init__(self, service, **changes):
        self.service = service
        self.matter = service.propose_matter(proposal(**changes))
        self.id = self.matter["id"]

    def step(self, name, days_ago=None, **extra):
        payload = {"step": name, "on": ago(DAYS[name] if days_ago is None else days_ago),
                   "recorded_by": "王会计", **STEP_DATA[name], **extra}
        self.matter = self.service.record_step(self.id, payload)
        return self.matter

    def finish_execution(self, days_ago=FINISHED_DAYS_AGO, halfway_days_ago=None):
        halfway = days_ago + 10 if halfway_days_ago is None else halfway_days_ago
        self.service.record_progress(self.id, {"on": ago(halfway), "percent": 40,
                                               "note": "路基完成", "recorded_by": "张主任"})
        self.matter = self.service.record_progress(self.id, {"on": ago(days_ago), "percent": 100,
                                                             "note": "完工", "recorded_by": "张主任"})
        return self.matter

    def sign_all(self, days_ago=41):
        for row in self.service.get_matter(self.id)["steps"]:
            signed = {s["step_id"] for s in self.service.get_matter(self.id)["sign_offs"]}
            if not row["superseded"] and row["outcome"] != "rejected" and row["id"] not in signed:
                self.service.sign_off(self.id, {"step": row["step"], "on": ago(days_ago),
                                                "signed_by": "李监督"})

    def through(self, last):
        """Every step after the proposal up to ``last`` (finishing execution on the way)."""
        steps = self.matter["procedure_steps"]
        for name in steps[1:steps.index(last) + 1]:
            if name == "implementation_published":
                self.finish_execution()
            if name == "acceptance":
                self.sign_all()
            self.step(name)
        return self.matter


def outbox(service, event_type=None) -> list[dict]:
    table = service.store.outbox_table
    query = select(table.c.body).order_by(table.c.id)
    if event_type:
        query = query.where(table.c.type == event_type)
    with service.store.reading() as session:
        return [json.loads(body) for body in session.scalars(query)]


def count(service, model) -> int:
    with service.store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))
