"""Reports (functions of a session): counts by category and status per village or township,
the overdue list (steps past their due day, objections past their answer period) and the
violations found."""
from datetime import timedelta

from sqlalchemy import func, select

from services.affairs import procedure, scoping, views
from services.affairs.matters import year_bounds
from services.affairs.models import Matter, Objection, StepRecord, Unit, Violation
from services.affairs.procedure import Done

OPEN = ("deliberating", "resolved", "executing")


def counts(session, rules, filters: dict) -> dict:
    column = Matter.township_id if filters["level"] == "township" else Matter.branch_id
    query = select(column, Matter.category, Matter.status, func.count()).group_by(
        column, Matter.category, Matter.status).where(*scoping.unit_conditions(Matter, filters))
    if filters.get("year") is not None:
        query = query.where(Matter.proposed_on.between(*year_bounds(filters["year"])))
    units, totals = {}, {"total": 0, "by_category": {}, "by_status": {}}
    for unit_id, category, status, number in session.execute(query):
        unit = units.setdefault(unit_id, {"unit_id": unit_id, "total": 0, "by_category": {}})
        unit["total"] += number
        unit["by_category"].setdefault(category, {})[status] = number
        totals["total"] += number
        totals["by_category"][category] = totals["by_category"].get(category, 0) + number
        totals["by_status"][status] = totals["by_status"].get(status, 0) + number
    names = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_([u for u in units if u is not None]))).all())
    rows = sorted(units.values(), key=lambda u: (u["unit_id"] is None, u["unit_id"] or 0))
    for row in rows:
        row["name"] = names.get(row["unit_id"])
    return {"level": filters["level"], "year": filters.get("year"),
            "township_id": filters.get("township_id"), "categories": rules.categories,
            "units": rows, "totals": totals}


def overdue(session, rules, filters: dict, today) -> dict:
    as_of = filters.get("as_of") or today
    query = select(Matter).where(Matter.status.in_(OPEN),
                                 *scoping.unit_conditions(Matter, filters))
    matters = {m.id: m for m in session.scalars(query.order_by(Matter.id))}
    done = {matter_id: {} for matter_id in matters}
    rows = session.execute(select(StepRecord.matter_id, StepRecord.step, StepRecord.happened_on)
                           .join(Matter, Matter.id == StepRecord.matter_id)
                           .where(StepRecord.superseded.is_(False),
                                  StepRecord.outcome != "rejected",
                                  query.whereclause))
    for matter_id, step, on in rows:
        done[matter_id][step] = Done(step, on)
    late = []
    for matter in matters.values():
        due = procedure.next_due(rules, rules.procedures[matter.procedure], done[matter.id],
                                 matter.execution_finished_on)
        if due is not None and due[1] < as_of:
            late.append({**views.matter_summary(matter), "next_step": due[0],
                         "due_on": due[1].isoformat(), "days_overdue": (as_of - due[1]).days})
    late.sort(key=lambda m: (-m["days_overdue"], m["id"]))
    cutoff = as_of - timedelta(days=rules.objection_answer_days)
    objections = session.execute(
        select(Objection, Matter.branch_id, Matter.township_id)
        .join(Matter, Matter.id == Objection.matter_id)
        .where(Objection.answered_on.is_(None), Objection.raised_on < cutoff,
               *scoping.unit_conditions(Matter, filters))
        .order_by(Objection.raised_on, Objection.id).limit(filters["limit"])).all()
    return {"as_of": as_of.isoformat(), "total": len(late), "matters": late[:filters["limit"]],
            "objections": [{**views.objection_dict(o), "branch_id": b, "township_id": t,
                            "days_overdue": (as_of - o.raised_on).days - rules.objection_answer_days}
                           for o, b, t in objections]}


def violations(session, filters: dict) -> dict:
    query = select(Violation).where(*scoping.unit_conditions(Violation, filters))
    if filters.get("year") is not None:
        query = query.where(Violation.occurred_on.between(*year_bounds(filters["year"])))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Violation.occurred_on.desc(), Violation.id.desc())
                           .limit(filters["limit"])).all()
    return {"total": total, "violations": [views.violation_dict(v) for v in rows]}
