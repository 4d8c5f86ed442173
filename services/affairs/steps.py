"""Recording a step of a matter's procedure (a function of a session).

A step out of order, skipped, without quorum, too early after a publication or publicised for
too few days is refused (``Conflict`` with the reason) unless it is recorded ``as_happened``:
then it is kept as a record of what happened, with one ``Violation`` per breach, each published
as ``procedure_violation_detected``. A refused step stores and publishes nothing. What no
recording can make right is always refused: a step of a completed or ended matter, a step
recorded twice, an implementation result before execution reached 100 %, an acceptance with
an open objection or an unsigned step."""
from sqlalchemy import func, select, update

from services.affairs import attachments, procedure, publication, quorum, views
from services.affairs.models import Matter, Objection, SignOff, StepRecord, Unit, Violation
from services.affairs.procedure import Done, Problem
from shared.bus.outbox import now
from shared.errors import Conflict, InvalidInput


def done_of(session, matter_id: int) -> dict[str, Done]:
    """The matter's steps that count: recorded, not voted down, not undone by a return."""
    rows = session.execute(select(StepRecord.step, StepRecord.happened_on).where(
        StepRecord.matter_id == matter_id, StepRecord.superseded.is_(False),
        StepRecord.outcome != "rejected").order_by(StepRecord.id)).all()
    return {step: Done(step, on) for step, on in rows}


def _meeting_fields(rule, data) -> str:
    form = data.get("form") or rule.meetings[0]
    if form not in rule.meetings:
        raise InvalidInput({"form": [f"{rule.name} is held as {', '.join(rule.meetings)}"]})
    missing = [name for name in ("attendance", "votes") if not data.get(name)]
    if missing:
        raise InvalidInput({name: [f"a meeting step ({rule.name}) records its {name}"]
                            for name in missing})
    return form


def _fields(rules, rule, data) -> dict:
    """The step's own fields by its kind; refuses fields that belong to another kind."""
    values = {"form": None, "notice_days": None, "channels": None}
    if rule.kind != "publication" and (data.get("notice_days") is not None or data.get("channels")):
        raise InvalidInput({"notice_days" if data.get("notice_days") is not None else "channels":
                            ["only publication steps have a notice period and channels"]})
    if rule.kind == "meeting":
        values["form"] = _meeting_fields(rule, data)
        return values
    strays = [name for name in ("form", "attendance", "votes") if data.get(name)]
    if strays:
        raise InvalidInput({name: [f"only meeting steps have a {name}"] for name in strays})
    if rule.kind == "publication":
        channels = data.get("channels") or [rules.channels[0]]
        unknown = sorted(set(channels) - set(rules.channels))
        if unknown:
            raise InvalidInput({"channels": [f"must be among {', '.join(rules.channels)}"]})
        values["channels"] = ",".join(dict.fromkeys(channels))
        values["notice_days"] = rule.notice_days if data.get("notice_days") is None \
            else data["notice_days"]
    return values


def _always_refused(session, rules, proc, matter: Matter, done, step: str):
    rule = rules.steps[step]
    if matter.status in ("completed", "ended"):
        raise Conflict(f"matter {matter.id} is {matter.status} (since {matter.closed_on}): "
                       f"no further steps")
    if step in done:
        raise Conflict(f"{rule.name} ({step}) of matter {matter.id} was already recorded on "
                       f"{done[step].on}")
    execution = procedure.step_of_kind(rules, proc, "execution")
    after_execution = proc.index(step) > proc.index(execution)
    if after_execution and execution in done and matter.execution_finished_on is None:
        raise Conflict(f"execution of matter {matter.id} is at {matter.execution_percent or 0} %: "
                       f"{rule.name} needs it finished (100 %)")
    if rule.kind != "acceptance":
        return
    open_objections = session.scalars(select(Objection).where(
        Objection.matter_id == matter.id, Objection.answered_on.is_(None))
        .order_by(Objection.id)).all()
    if open_objections:
        first = open_objections[0]
        raise Conflict(f"matter {matter.id} has {len(open_objections)} unanswered objection(s) "
                       f"(objection {first.id} of {first.raised_on}: {first.reason}): answer them "
                       f"before the acceptance")
    if rules.sign_off_every_step:
        unsigned = session.scalars(select(StepRecord.step).where(
            StepRecord.matter_id == matter.id, StepRecord.superseded.is_(False),
            StepRecord.outcome != "rejected",
            StepRecord.id.not_in(select(SignOff.step_id))).order_by(StepRecord.id)).all()
        if unsigned:
            raise Conflict(f"the supervision committee has not signed off {', '.join(unsigned)} "
                           f"of matter {matter.id}")


def _problems(rules, proc, done, step, data, values) -> tuple[list[Problem], object]:
    found = procedure.problems(rules, proc, done, step, data["on"])
    result = None
    if values["form"] is not None:
        attendance, votes = data["attendance"], data["votes"]
        result = quorum.assess(rules.meetings[values["form"]], attendance["members"],
                               attendance["present"], votes["votes_for"])
        if not result.quorate:
            found.append(Problem("no_quorum", step, result.reason))
    if values["notice_days"] is not None:
        short = procedure.publication_problem(rules, step, values["notice_days"])
        if short:
            found.append(short)
    return found, result


def _refusal(found: list[Problem]) -> str:
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return (f"{found[0].reason}{more}; a step that already happened this way is recorded with "
            f"as_happened, and kept as a violation")


def _supersede_from(session, matter_id: int, proc, back: str):
    later = proc.steps[proc.index(back):]
    session.execute(update(StepRecord).where(
        StepRecord.matter_id == matter_id, StepRecord.step.in_(later),
        StepRecord.superseded.is_(False)).values(superseded=True))


def _store(session, rules, matter, unit, data, values, result, found, checked) -> tuple:
    attendance, votes = data.get("attendance") or {}, data.get("votes") or {}
    outcome = "recorded" if result is None else ("adopted" if result.majority else "rejected")
    row = StepRecord(matter_id=matter.id, step=data["step"], happened_on=data["on"],
                     outcome=outcome, members=attendance.get("members"),
                     present=attendance.get("present"), votes_for=votes.get("votes_for"),
                     votes_against=votes.get("against"), votes_abstain=votes.get("abstain"),
                     note=data.get("note"), as_happened=bool(data.get("as_happened")),
                     superseded=False, recorded_by=data["recorded_by"], created_at=now(), **values)
    session.add(row)
    session.flush()
    attachments.add(session, rules, matter.id, checked, row.id)
    violations = [Violation(matter_id=matter.id, step_id=row.id, branch_id=matter.branch_id,
                            township_id=unit.township_id, kind=p.kind,
                            severity=rules.severities[p.kind], step=p.step, reason=p.reason,
                            occurred_on=data["on"]) for p in found]
    session.add_all(violations)
    return row, violations


def _move_on(session, rules, proc, matter, done, row):
    """The matter's status after ``row``: a rejection ends it or sends it back a step."""
    ended, after = False, {**done, row.step: Done(row.step, row.happened_on)}
    if row.outcome == "rejected":
        del after[row.step]
        action, back = procedure.after_rejection(rules, proc, row.step)
        if action == "end":
            ended = True
        else:
            _supersede_from(session, matter.id, proc, back)
            after = {code: d for code, d in after.items() if proc.index(code) < proc.index(back)}
    matter.status = procedure.status_of(rules, proc, after, ended)
    if matter.status in ("completed", "ended"):
        matter.closed_on = row.happened_on
    session.flush()


def _events(session, rules, proc, matter, unit, row, violations) -> list[tuple]:
    events = [("matter_step_recorded", views.step_event(matter, unit, row))]
    events += [("procedure_violation_detected", views.violation_event(matter, unit, violation))
               for violation in violations]
    if row.outcome == "adopted" and row.step == rules.deciding_step(proc):
        events.append(("matter_resolved", views.resolved_event(matter, unit, row)))
    if rules.steps[row.step].kind == "publication":
        events.append(publication.publish(session, rules, matter, unit, row, proc))
    if matter.status == "completed":
        total = session.scalar(select(func.count()).select_from(Violation)
                               .where(Violation.matter_id == matter.id))
        events.append(("matter_completed", views.completed_event(matter, unit, total)))
    return events


def record(session, rules, matter: Matter, unit: Unit, data: dict) -> StepRecord:
    """Record step ``data["step"]`` of ``matter`` (locked by the caller); publishes
    ``matter_step_recorded`` and whatever follows from it."""
    proc = rules.procedures[matter.procedure]
    step = data["step"]
    if step not in proc.steps:
        raise InvalidInput({"step": [f"the {proc.name} procedure has the steps "
                                     f"{', '.join(proc.steps)}"]})
    values = _fields(rules, rules.steps[step], data)
    done = done_of(session, matter.id)
    _always_refused(session, rules, proc, matter, done, step)
    found, result = _problems(rules, proc, done, step, data, values)
    if found and not data.get("as_happened"):
        raise Conflict(_refusal(found))
    checked = attachments.check(rules, data.get("evidence") or [])
    if any(given.get("step") for given, _ in checked):
        raise InvalidInput({"evidence": ["evidence given with a step documents that step: "
                                         "leave its step out"]})
    row, violations = _store(session, rules, matter, unit, data, values, result, found, checked)
    _move_on(session, rules, proc, matter, done, row)
    session.publish_many(_events(session, rules, proc, matter, unit, row, violations))
    return row
