"""Matters (functions of a session): the units learned from members, proposing a matter,
recording its steps and its execution, reading it back."""
from datetime import date

from sqlalchemy import func, select, update

from services.affairs import attachments, procedure, publication, scoping, steps, views
from services.affairs.locking import for_update
from services.affairs.models import (Evidence, Matter, Objection, Progress, SignOff, StepRecord,
                                     Unit, Violation)
from shared.bus.outbox import now
from shared.errors import Conflict, InvalidInput, NotFound


def learn_unit(session, data: dict, dissolved: bool = False):
    """Keep a local copy of an organisation unit from members' ``org_unit_created`` /
    ``org_unit_changed``; a village moved to another township takes its matters along."""
    unit = session.get(Unit, data["org_unit_id"])
    if unit is None:
        session.add(Unit(id=data["org_unit_id"], name=data["name"], kind=data["kind"],
                         township_id=data["township_id"], dissolved=dissolved))
        return
    if unit.township_id != data["township_id"]:
        session.execute(update(Matter).where(Matter.branch_id == unit.id)
                        .values(township_id=data["township_id"]))
    unit.name, unit.kind, unit.township_id = data["name"], data["kind"], data["township_id"]
    unit.dissolved = dissolved


def lock(session, matter_id: int) -> Matter:
    matter = session.get(Matter, matter_id, with_for_update=for_update(session))
    if matter is None:
        raise NotFound(f"matter {matter_id} does not exist")
    return matter


def _proposing_unit(session, rules, branch_id: int) -> Unit:
    unit = session.get(Unit, branch_id)
    if unit is None:
        raise NotFound(f"org unit {branch_id} is not known to affairs (yet)")
    if unit.kind not in rules.proposing_unit_kinds:
        raise InvalidInput({"branch_id": [f"unit {branch_id} is a {unit.kind}: matters are proposed "
                                          f"by {', '.join(rules.proposing_unit_kinds)} units"]})
    if unit.dissolved:
        raise InvalidInput({"branch_id": [f"unit {branch_id} was dissolved"]})
    return unit


def _checked_amount(rules, item, amount):
    if item.amount == "required" and amount is None:
        raise InvalidInput({"amount": [f"{item.name} ({item.code}) needs its amount"]})
    if item.amount == "none" and amount is not None:
        raise InvalidInput({"amount": [f"{item.name} ({item.code}) has no amount"]})
    return amount


def propose(session, rules, data: dict) -> dict:
    return get(session, rules, open_matter(session, rules, data).id)


def open_matter(session, rules, data: dict) -> Matter:
    """A village branch proposes a matter: the item and amount decide its procedure; the
    proposal is its first step. Publishes ``matter_proposed`` (and the proposal's events)."""
    unit = _proposing_unit(session, rules, data["branch_id"])
    item = rules.items.get(data["item"])
    if item is None:
        raise InvalidInput({"item": [f"must be an item of the power list: {', '.join(rules.items)}"]})
    amount = _checked_amount(rules, item, data["amount"])
    proc = rules.procedure_for(item.code, amount)
    matter = Matter(branch_id=unit.id, township_id=unit.township_id, item=item.code,
                    category=item.category, procedure=proc.code, title=data["title"],
                    description=data["description"], amount=amount, status="deliberating",
                    proposed_on=data["proposed_on"], recorded_by=data["recorded_by"],
                    created_at=now())
    session.add(matter)
    session.flush()
    session.publish("matter_proposed", views.proposed_event(matter, unit))
    steps.record(session, rules, matter, unit, {**data, "step": proc.steps[0],
                                                "on": data["proposed_on"], "as_happened": False,
                                                "note": None})
    return matter


def record_step(session, rules, matter_id: int, data: dict) -> dict:
    matter = lock(session, matter_id)
    steps.record(session, rules, matter, session.get(Unit, matter.branch_id), data)
    return get(session, rules, matter_id)


def accept(session, rules, matter_id: int, data: dict) -> dict:
    """The supervision committee's final acceptance: the acceptance step of the matter's
    procedure, recorded as ``record_step`` records any step."""
    matter = lock(session, matter_id)
    step = procedure.step_of_kind(rules, rules.procedures[matter.procedure], "acceptance")
    steps.record(session, rules, matter, session.get(Unit, matter.branch_id),
                 {**data, "step": step})
    return get(session, rules, matter_id)


def record_progress(session, rules, matter_id: int, data: dict) -> dict:
    progress(session, rules, matter_id, data)
    return get(session, rules, matter_id)


def progress(session, rules, matter_id: int, data: dict):
    """An execution progress update (percent never goes down; 100 % finishes execution)."""
    matter = lock(session, matter_id)
    proc = rules.procedures[matter.procedure]
    execution = procedure.step_of_kind(rules, proc, "execution")
    started = steps.done_of(session, matter_id).get(execution)
    if matter.status in ("completed", "ended"):
        raise Conflict(f"matter {matter_id} is {matter.status}: no more progress")
    if started is None:
        raise Conflict(f"execution of matter {matter_id} has not started (record the "
                       f"{execution} step first)")
    if matter.execution_finished_on is not None:
        raise Conflict(f"execution of matter {matter_id} finished on {matter.execution_finished_on}")
    last = session.scalar(select(Progress).where(Progress.matter_id == matter_id)
                          .order_by(Progress.id.desc()).limit(1))
    since = last.reported_on if last else started.on
    if data["on"] < since:
        raise InvalidInput({"on": [f"must be on or after {since} (the last update or the start)"]})
    if last and data["percent"] < last.percent:
        raise InvalidInput({"percent": [f"cannot go down from {last.percent} %"]})
    session.add(Progress(matter_id=matter_id, reported_on=data["on"], percent=data["percent"],
                         note=data["note"], recorded_by=data["recorded_by"]))
    matter.execution_percent = data["percent"]
    if data["percent"] == 100:
        matter.execution_finished_on = data["on"]
    session.flush()


def attach(session, rules, matter_id: int, data: dict) -> dict:
    """Evidence added to a matter after the fact (optionally for one of its recorded steps)."""
    matter = lock(session, matter_id)
    step_id = attachments.step_for(session, matter.id, data.get("step"))
    checked = attachments.check(rules, [data], field="_evidence")
    [row] = attachments.add(session, rules, matter.id, checked, step_id)
    return views.evidence_dict(row)


def _all(session, model, matter_id):
    return session.scalars(select(model).where(model.matter_id == matter_id)
                           .order_by(model.id)).all()


def get(session, rules, matter_id: int) -> dict:
    matter = session.get(Matter, matter_id)
    if matter is None:
        raise NotFound(f"matter {matter_id} does not exist")
    proc = rules.procedures[matter.procedure]
    done = steps.done_of(session, matter_id)
    due = None
    if matter.status not in ("completed", "ended"):
        due = procedure.next_due(rules, proc, done, matter.execution_finished_on)
    return {**views.matter_summary(matter), "description": matter.description,
            "item_name": rules.items[matter.item].name if matter.item in rules.items else None,
            "procedure_steps": list(proc.steps), "recorded_by": matter.recorded_by,
            "next_step": None if matter.status in ("completed", "ended")
            else procedure.next_step(proc, done),
            "due": None if due is None else {"step": due[0], "on": due[1].isoformat()},
            "steps": [views.step_dict(r) for r in _all(session, StepRecord, matter_id)],
            "progress": [views.progress_dict(r) for r in _all(session, Progress, matter_id)],
            "sign_offs": [views.sign_off_dict(r) for r in _all(session, SignOff, matter_id)],
            "objections": [views.objection_dict(r) for r in _all(session, Objection, matter_id)],
            "evidence": [views.evidence_dict(r) for r in _all(session, Evidence, matter_id)],
            "violations": [views.violation_dict(r) for r in _all(session, Violation, matter_id)],
            "publications": [views.record_dict(r, rules.public_url(r.path))
                             for r in publication.records_of(session, matter_id)]}


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _selected(filters: dict):
    query = select(Matter).where(*scoping.unit_conditions(Matter, filters))
    for name in ("status", "item"):
        if filters.get(name) is not None:
            query = query.where(getattr(Matter, name) == filters[name])
    if filters.get("year") is not None:
        query = query.where(Matter.proposed_on.between(*year_bounds(filters["year"])))
    return query


def page(session, filters: dict) -> list[dict]:
    """The summaries of the matters the filters select, oldest first, one page of them."""
    rows = session.scalars(_selected(filters).order_by(Matter.id).offset(filters["offset"])
                           .limit(filters["limit"])).all()
    return [views.matter_summary(m) for m in rows]


def listing(session, filters: dict) -> dict:
    query = _selected(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return {"total": total, "matters": page(session, filters)}
