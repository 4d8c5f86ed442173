"""The affairs service checks its gateway callers itself (``shared.scope``, ``shared.bus.guard``),
on a real database (no broker), PostgreSQL and SQLite: a village cadre works in their own village
only, the supervision committee's acts need ``affairs.supervise``, lists and reports of a caller
bound to one unit stay inside it, and who acted is the caller's login."""
import pytest
from nameko.testing.services import worker_factory

from affairs_walk import OTHER_VILLAGE, STEP_DATA, VILLAGE, Walk, ago, local, proposal
from services.affairs import matters
from services.affairs.service import AffairsService
from services.gateway.roles import ROLES
from shared import migrate
from shared.bus.guard import refusal
from shared.errors import Forbidden, NotFound

OWN, NEIGHBOUR, TOWNSHIP = VILLAGE["org_unit_id"], OTHER_VILLAGE["org_unit_id"], 2
FAR_TOWNSHIP = {"org_unit_id": 3, "parent_id": 1, "township_id": 3, "kind": "township_committee",
                "name": "南排河镇党委"}
FAR_VILLAGE = {"org_unit_id": 31, "parent_id": 3, "township_id": 3, "kind": "village_branch",
               "name": "赵家堡村党支部"}


def context(role, unit_id, user=None):
    return {"role": role, "scope_unit_id": unit_id, "user": user or f"{role}-{unit_id}",
            "permissions": sorted(ROLES[role])}


@pytest.fixture
def inside(db_url_factory, tmp_path):
    """The service as called from inside (no caller), on a county of two townships."""
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    service = local(url, tmp_path / "evidence")
    with service.store.transaction() as session:
        for unit in (FAR_TOWNSHIP, FAR_VILLAGE):
            matters.learn_unit(session, unit)
    service.url = url
    return service


def as_caller(inside, role, unit_id, user=None):
    """The service as a worker would run it for a gateway caller with ``role`` in ``unit_id``."""
    store = AffairsService.store.handle(inside.url, context=context(role, unit_id, user))
    return worker_factory(AffairsService, store=store, rules=inside.rules)


def test_a_village_cadre_proposes_and_records_steps_in_their_own_village_only(inside):
    cadre = as_caller(inside, "village_cadre", OWN, user="cadre-qxz")
    mine = Walk(cadre)
    assert mine.matter["branch_id"] == OWN
    assert mine.step("joint_meeting")["next_step"] == "party_assembly"

    with pytest.raises(Forbidden) as refused:
        cadre.propose_matter(proposal(branch_id=NEIGHBOUR))
    assert f"organisation unit {NEIGHBOUR} is outside your scope (unit {OWN})" \
        in str(refused.value)

    theirs = Walk(inside, branch_id=NEIGHBOUR)
    payload = {"step": "joint_meeting", "on": ago(95), "recorded_by": "x",
               **STEP_DATA["joint_meeting"]}
    for call in (lambda: cadre.record_step(theirs.id, payload),
                 lambda: cadre.get_matter(theirs.id),
                 lambda: cadre.record_progress(theirs.id, {"on": ago(1), "percent": 5,
                                                           "note": "开工"})):
        with pytest.raises(Forbidden) as refused:
            call()
        assert f"organisation unit {NEIGHBOUR}" in str(refused.value)
    assert inside.get_matter(theirs.id)["next_step"] == "joint_meeting"
    with pytest.raises(NotFound):
        cadre.get_matter(theirs.id + 100)


def test_who_acted_is_the_callers_login(inside):
    cadre = as_caller(inside, "village_cadre", OWN, user="cadre-qxz")
    body = {key: value for key, value in proposal().items() if key != "recorded_by"}
    proposed = cadre.propose_matter(body, recorded_by="cadre-qxz")
    assert proposed["recorded_by"] == "cadre-qxz"
    assert proposed["steps"][0]["recorded_by"] == "cadre-qxz"
    stepped = cadre.record_step(proposed["id"], {"step": "joint_meeting", "on": ago(95),
                                                 "recorded_by": "someone else",
                                                 **STEP_DATA["joint_meeting"]},
                                recorded_by="cadre-qxz")
    assert stepped["steps"][1]["recorded_by"] == "cadre-qxz"


def test_the_supervision_acts_need_affairs_supervise(inside):
    cadre, supervisor = context("village_cadre", OWN), context("supervisor", OWN)
    for act in ("sign_off", "raise_objection", "accept_matter"):
        assert "affairs.supervise" in refusal(AffairsService, act, cadre)
        assert refusal(AffairsService, act, supervisor) is None
    for act in ("propose_matter", "record_step", "record_progress", "answer_objection"):
        assert refusal(AffairsService, act, cadre) is None
        assert "affairs.write" in refusal(AffairsService, act, supervisor)
    assert refusal(AffairsService, "get_matter", supervisor) is None
    assert refusal(AffairsService, "public_record", {"role": "anonymous"}) is None
    assert "not published" in refusal(AffairsService, "list_matters", cadre)


def test_the_supervision_committee_signs_off_objects_and_accepts_in_its_village(inside):
    walk = Walk(inside)
    walk.through("implementation_published")
    supervisor = as_caller(inside, "supervisor", OWN, user="jiandu-li")
    cadre = as_caller(inside, "village_cadre", OWN, user="cadre-qxz")

    objection = supervisor.raise_objection(walk.id, {"raised_on": ago(45), "reason": "票据不全"},
                                           raised_by="jiandu-li")
    assert objection["raised_by"] == "jiandu-li" and objection["open"]
    answered = cadre.answer_objection(objection["id"], {"answered_on": ago(44),
                                                        "answer": "已补齐票据"},
                                      answered_by="cadre-qxz")
    assert answered["answered_by"] == "cadre-qxz" and not answered["open"]

    for row in inside.get_matter(walk.id)["steps"]:
        signed = supervisor.sign_off(walk.id, {"step": row["step"], "on": ago(41)},
                                     signed_by="jiandu-li")
        assert signed["signed_by"] == "jiandu-li"

    with pytest.raises(Forbidden) as refused:
        cadre.record_step(walk.id, {"step": "acceptance", "on": ago(40), "recorded_by": "x"})
    assert "affairs.supervise" in str(refused.value)
    accepted = supervisor.accept_matter(walk.id, {"on": ago(40), "note": "验收合格"},
                                        recorded_by="jiandu-li")
    assert accepted["status"] == "completed" and accepted["steps"][-1]["step"] == "acceptance"
    assert accepted["steps"][-1]["recorded_by"] == "jiandu-li"

    elsewhere = Walk(inside, branch_id=NEIGHBOUR)
    with pytest.raises(Forbidden) as refused:
        supervisor.sign_off(elsewhere.id, {"step": "proposal", "on": ago(90)},
                            signed_by="jiandu-li")
    assert f"organisation unit {NEIGHBOUR}" in str(refused.value)


def test_evidence_and_objections_belong_to_their_matters_village(inside):
    theirs = Walk(inside, branch_id=NEIGHBOUR)
    evidence = inside.attach_evidence(theirs.id, {"kind": "photo", "name": "现场照片",
                                                  "reference": "档案室 3-1", "sha256": "ab" * 32})
    objection = inside.raise_objection(theirs.id, {"raised_on": ago(90), "raised_by": "李监督",
                                                   "reason": "未公示"})
    cadre = as_caller(inside, "village_cadre", OWN)
    for call in (lambda: cadre.get_evidence(evidence["id"]),
                 lambda: cadre.answer_objection(objection["id"], {
                     "answered_on": ago(80), "answered_by": "x", "answer": "已公示"}),
                 lambda: cadre.attach_evidence(theirs.id, {
                     "kind": "photo", "name": "x", "reference": "y", "sha256": "cd" * 32})):
        with pytest.raises(Forbidden) as refused:
            call()
        assert f"organisation unit {NEIGHBOUR}" in str(refused.value)
    neighbour = as_caller(inside, "village_cadre", NEIGHBOUR)
    assert neighbour.get_evidence(evidence["id"])["name"] == "现场照片"


def test_lists_and_reports_of_a_scoped_caller_stay_inside_its_unit(inside):
    mine = Walk(inside).id
    theirs = Walk(inside, branch_id=NEIGHBOUR).id
    far = Walk(inside, branch_id=FAR_VILLAGE["org_unit_id"]).id
    cadre = as_caller(inside, "village_cadre", OWN)
    township = as_caller(inside, "township_staff", TOWNSHIP)
    county = as_caller(inside, "auditor", None)

    assert [m["id"] for m in cadre.find_matters()] == [mine]
    assert [m["id"] for m in cadre.find_matters(branch_id=OWN)] == [mine]
    assert [m["id"] for m in township.find_matters()] == [mine, theirs]
    assert [m["id"] for m in township.find_matters(offset=1, limit=1)] == [theirs]
    assert [m["id"] for m in county.find_matters()] == [mine, theirs, far]
    assert cadre.counts()["totals"]["total"] == 1
    assert township.counts({"level": "village"})["totals"]["total"] == 2
    assert county.counts()["totals"]["total"] == 3
    assert [m["id"] for m in township.overdue(as_of=ago(0))["matters"]] == [mine, theirs]
    assert cadre.list_violations()["total"] == 0

    for call in (lambda: cadre.find_matters(branch_id=NEIGHBOUR),
                 lambda: cadre.find_matters(township_id=TOWNSHIP),
                 lambda: township.counts(township_id=3),
                 lambda: township.overdue({"branch_id": FAR_VILLAGE["org_unit_id"]}),
                 lambda: cadre.list_violations(township_id=TOWNSHIP)):
        with pytest.raises(Forbidden) as refused:
            call()
        assert "outside your scope" in str(refused.value)
    with pytest.raises(Forbidden):
        as_caller(inside, "township_staff", 3).propose_matter(proposal())
    assert inside.list_matters({"branch_id": OWN})["total"] == 1     # calls from inside: as before
