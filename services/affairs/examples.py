"""Valid calls of the affairs RPCs for the shared input fuzz suite (``ServiceBase.rpc_examples``).

Creates a township and a village through the members service, waits until affairs has learned
the village from members' events, then builds matters at several points of the procedure through
affairs' own RPCs: each RPC that moves a matter on gets a matter of its own."""
import time
from datetime import date, timedelta

from shared.errors import NotFound

HASH = "ab" * 32


def _day(days_ago: int) -> str:
    return (date.today() - timedelta(days=days_ago)).isoformat()


def _meeting(members, present, votes_for, against=0, abstain=0) -> dict:
    return {"attendance": {"members": members, "present": present},
            "votes": {"for": votes_for, "against": against, "abstain": abstain}}


def _proposal(village: int, days_ago: int = 40) -> dict:
    return {"branch_id": village, "item": "major_spending", "title": "示例：村内道路硬化",
            "description": "示例事项", "amount": "86000.00", "proposed_on": _day(days_ago),
            "recorded_by": "示例书记", **_meeting(5, 5, 5),
            "evidence": [{"kind": "minutes", "name": "会议记录", "reference": "档案室 示例-1",
                          "sha256": HASH}]}


STEPS = {
    "joint_meeting": (38, _meeting(9, 8, 7, 1)),
    "party_assembly": (36, _meeting(40, 30, 25, 3, 2)),
    "villagers_assembly": (34, {"form": "representatives_meeting", **_meeting(45, 31, 27, 2, 2)}),
    "resolution_published": (33, {"notice_days": 7, "channels": ["board"], "note": "决议公告"}),
    "execution": (25, {"note": "组织实施"}),
}


def _propose_when_known(affairs, village, timeout=20.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return affairs.propose_matter(_proposal(village))["id"]
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _step(affairs, matter_id, step):
    days_ago, fields = STEPS[step]
    return affairs.record_step(matter_id, {"step": step, "on": _day(days_ago),
                                           "recorded_by": "示例会计", **fields})


def _through(affairs, matter_id, last):
    for step in list(STEPS)[:list(STEPS).index(last) + 1]:
        _step(affairs, matter_id, step)
    return matter_id


def rpc_examples(cluster) -> dict[str, list[dict]]:
    members, affairs = cluster.members, cluster.affairs
    townships = members.list_townships()
    if townships:
        town = townships[0]["id"]
    else:
        city = members.create_org_unit({"name": "示例市委", "kind": "city_committee",
                                        "parent_id": None})["id"]
        town = members.create_org_unit({"name": "示例镇党委", "kind": "township_committee",
                                        "parent_id": city})["id"]
    village = members.create_org_unit({"name": "示例村党支部", "kind": "village_branch",
                                       "parent_id": town})["id"]
    proposed = _propose_when_known(affairs, village)
    deciding = affairs.propose_matter(_proposal(village))["id"]
    published = _through(affairs, affairs.propose_matter(_proposal(village))["id"],
                         "resolution_published")
    executing = _through(affairs, affairs.propose_matter(_proposal(village))["id"], "execution")
    objection = affairs.raise_objection(proposed, {"raised_on": _day(10), "raised_by": "示例监督",
                                                   "reason": "示例异议"})["id"]
    evidence = affairs.attach_evidence(proposed, {"kind": "photo", "name": "照片",
                                                  "reference": "档案室 示例-2", "sha256": HASH})["id"]
    return {
        "answer_objection": [{"objection_id": objection,
                              "payload": {"answered_on": _day(5), "answered_by": "示例主任",
                                          "answer": "已答复"}}],
        "attach_evidence": [{"matter_id": proposed,
                             "payload": {"kind": "minutes", "name": "补充记录", "step": "proposal",
                                         "reference": "档案室 示例-3", "sha256": HASH}}],
        "counts": [{"filters": {"level": "village", "township_id": town}}, {"filters": None}],
        "find_matters": [{"branch_id": village, "status": "resolved", "offset": 0, "limit": 10}],
        "get_evidence": [{"evidence_id": evidence, "include_content": False}],
        "get_matter": [{"matter_id": published}],
        "list_matters": [{"filters": {"branch_id": village, "status": "resolved", "limit": 10,
                                      "offset": 0}}],
        "list_violations": [{"filters": {"township_id": town, "year": date.today().year}}],
        "overdue": [{"filters": {"as_of": _day(0), "township_id": town}}],
        "power_list": [{}],
        "propose_matter": [{"payload": _proposal(village, 3)}],
        "public_record": [{"branch_id": village, "seq": 1}],
        "qr_code": [{"branch_id": village, "seq": 1, "image_format": "svg"}],
        "raise_objection": [{"matter_id": published,
                             "payload": {"step": "resolution_published", "raised_on": _day(2),
                                         "raised_by": "示例监督", "reason": "公示期内有群众反映"}}],
        "record_progress": [{"matter_id": executing,
                             "payload": {"on": _day(1), "percent": 20, "note": "路基完成",
                                         "recorded_by": "示例主任"}}],
        "record_step": [{"matter_id": deciding,
                         "payload": {"step": "joint_meeting", "on": _day(38),
                                     "recorded_by": "示例会计", **_meeting(9, 8, 7, 1)}}],
        "sign_off": [{"matter_id": executing,
                      "payload": {"step": "execution", "on": _day(1), "signed_by": "示例监督"}}],
        "verify_chain": [{"branch_id": village}],
    }
