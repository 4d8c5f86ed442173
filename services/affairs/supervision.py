"""The village affairs supervision committee (村务监督委员会) throughout the procedure (functions of
a session): it signs off each recorded step and raises objections, which block the final
acceptance until the villagers' committee answers them. The acceptance itself is the
procedure's last step (``record_step`` with the ``acceptance`` step)."""
from sqlalchemy import select

from services.affairs import views
from services.affairs.locking import for_update
from services.affairs.matters import lock
from services.affairs.models import Objection, SignOff, StepRecord
from shared.errors import Conflict, InvalidInput, NotFound


def _open_matter(session, matter_id):
    matter = lock(session, matter_id)
    if matter.status in ("completed", "ended"):
        raise Conflict(f"matter {matter_id} is {matter.status} (since {matter.closed_on})")
    return matter


def sign_off(session, rules, matter_id: int, data: dict) -> dict:
    matter = _open_matter(session, matter_id)
    if rules.steps.get(data["step"]) is not None and rules.steps[data["step"]].kind == "acceptance":
        raise InvalidInput({"step": ["the final acceptance is itself a step: record it with "
                                     "record_step"]})
    found = session.execute(
        select(StepRecord.id, StepRecord.outcome, StepRecord.happened_on, SignOff.id)
        .outerjoin(SignOff, SignOff.step_id == StepRecord.id)
        .where(StepRecord.matter_id == matter.id, StepRecord.step == data["step"],
               StepRecord.superseded.is_(False))
        .order_by(StepRecord.id.desc()).limit(1)).first()
    if found is None:
        raise InvalidInput({"step": [f"matter {matter_id} has no recorded {data['step']} step"]})
    step_id, outcome, happened_on, signed = found
    if outcome == "rejected":
        raise InvalidInput({"step": [f"the {data['step']} step was voted down: nothing to sign off"]})
    if data["on"] < happened_on:
        raise InvalidInput({"on": [f"must be on or after the step's date {happened_on}"]})
    if signed is not None:
        raise Conflict(f"the {data['step']} step of matter {matter_id} is already signed off")
    row = SignOff(matter_id=matter.id, step_id=step_id, signed_on=data["on"],
                  signed_by=data["signed_by"], note=data.get("note"))
    session.add(row)
    session.flush()
    return views.sign_off_dict(row)


def raise_objection(session, rules, matter_id: int, data: dict) -> dict:
    matter = _open_matter(session, matter_id)
    if data.get("step") is not None and data["step"] not in rules.procedures[matter.procedure].steps:
        raise InvalidInput({"step": [f"matter {matter_id}'s procedure has no step {data['step']}"]})
    if data["raised_on"] < matter.proposed_on:
        raise InvalidInput({"raised_on": [f"must be on or after the proposal ({matter.proposed_on})"]})
    row = Objection(matter_id=matter.id, step=data.get("step"), raised_on=data["raised_on"],
                    raised_by=data["raised_by"], reason=data["reason"])
    session.add(row)
    session.flush()
    return views.objection_dict(row)


def answer_objection(session, objection_id: int, data: dict) -> dict:
    row = session.get(Objection, objection_id, with_for_update=for_update(session))
    if row is None:
        raise NotFound(f"objection {objection_id} does not exist")
    if row.answered_on is not None:
        raise Conflict(f"objection {objection_id} was answered on {row.answered_on}")
    if data["answered_on"] < row.raised_on:
        raise InvalidInput({"answered_on": [f"must be on or after the objection ({row.raised_on})"]})
    row.answered_on, row.answered_by, row.answer = (data["answered_on"], data["answered_by"],
                                                    data["answer"])
    session.flush()
    return views.objection_dict(row)
