"""What the affairs service hands out: RPC replies and event payloads, built from rows (pure)."""
from services.affairs.models import (Evidence, Matter, Objection, Progress, PublishedRecord,
                                     SignOff, StepRecord, Unit, Violation)


def branch_kind(unit: Unit) -> str:
    """members' ``village_branch`` -> the rulebook's ``village``."""
    return unit.kind.removesuffix("_branch")


def _day(value):
    return value.isoformat() if value is not None else None


def _amount(value):
    return None if value is None else f"{value:.2f}"


def place(matter: Matter, unit: Unit) -> dict:
    return {"matter_id": matter.id, "branch_id": matter.branch_id, "township_id": unit.township_id,
            "branch_kind": branch_kind(unit)}


def matter_summary(matter: Matter) -> dict:
    return {"id": matter.id, "branch_id": matter.branch_id, "township_id": matter.township_id,
            "item": matter.item, "category": matter.category, "procedure": matter.procedure,
            "title": matter.title, "amount": _amount(matter.amount), "status": matter.status,
            "proposed_on": _day(matter.proposed_on), "closed_on": _day(matter.closed_on),
            "execution_percent": matter.execution_percent}


def step_dict(row: StepRecord) -> dict:
    return {"id": row.id, "step": row.step, "on": _day(row.happened_on), "outcome": row.outcome,
            "form": row.form,
            "attendance": None if row.members is None else {"members": row.members,
                                                             "present": row.present},
            "votes": None if row.votes_for is None else {"for": row.votes_for,
                                                         "against": row.votes_against,
                                                         "abstain": row.votes_abstain},
            "notice_days": row.notice_days,
            "channels": row.channels.split(",") if row.channels else None,
            "note": row.note, "as_happened": row.as_happened, "superseded": row.superseded,
            "recorded_by": row.recorded_by}


def progress_dict(row: Progress) -> dict:
    return {"on": _day(row.reported_on), "percent": row.percent, "note": row.note,
            "recorded_by": row.recorded_by}


def sign_off_dict(row: SignOff) -> dict:
    return {"id": row.id, "step_id": row.step_id, "on": _day(row.signed_on),
            "signed_by": row.signed_by, "note": row.note}


def objection_dict(row: Objection) -> dict:
    return {"id": row.id, "matter_id": row.matter_id, "step": row.step,
            "raised_on": _day(row.raised_on), "raised_by": row.raised_by, "reason": row.reason,
            "answered_on": _day(row.answered_on), "answered_by": row.answered_by,
            "answer": row.answer, "open": row.answered_on is None}


def evidence_dict(row: Evidence) -> dict:
    return {"id": row.id, "matter_id": row.matter_id, "step_id": row.step_id, "kind": row.kind,
            "name": row.name, "sha256": row.sha256, "size": row.size, "media_type": row.media_type,
            "stored": row.stored_path is not None, "reference": row.reference}


def violation_dict(row: Violation) -> dict:
    return {"id": row.id, "matter_id": row.matter_id, "step_id": row.step_id,
            "branch_id": row.branch_id, "township_id": row.township_id, "kind": row.kind,
            "severity": row.severity, "step": row.step, "reason": row.reason,
            "occurred_on": _day(row.occurred_on)}


def record_dict(row: PublishedRecord, url: str) -> dict:
    return {"id": row.id, "branch_id": row.branch_id, "seq": row.seq, "matter_id": row.matter_id,
            "kind": row.kind, "published_on": _day(row.published_on),
            "notice_days": row.notice_days, "path": row.path, "url": url,
            "prev_hash": row.prev_hash, "record_hash": row.record_hash}


# -- event payloads (shared/contracts/affairs.py) ------------------------------------------------

def proposed_event(matter: Matter, unit: Unit) -> dict:
    return {**place(matter, unit), "item": matter.item, "category": matter.category,
            "procedure": matter.procedure, "title": matter.title,
            "amount": _amount(matter.amount), "occurred_on": _day(matter.proposed_on)}


def step_event(matter: Matter, unit: Unit, row: StepRecord) -> dict:
    return {**place(matter, unit), "step_id": row.id, "step": row.step, "outcome": row.outcome,
            "form": row.form, "members": row.members, "present": row.present,
            "votes_for": row.votes_for, "votes_against": row.votes_against,
            "votes_abstain": row.votes_abstain, "as_happened": row.as_happened,
            "status": matter.status, "occurred_on": _day(row.happened_on)}


def resolved_event(matter: Matter, unit: Unit, row: StepRecord) -> dict:
    return {**place(matter, unit), "item": matter.item, "category": matter.category,
            "procedure": matter.procedure, "step": row.step, "occurred_on": _day(row.happened_on)}


def published_event(matter: Matter, unit: Unit, record: PublishedRecord, url: str) -> dict:
    return {**place(matter, unit), "record_id": record.id, "kind": record.kind, "seq": record.seq,
            "url": url, "notice_days": record.notice_days, "record_hash": record.record_hash,
            "occurred_on": _day(record.published_on)}


def completed_event(matter: Matter, unit: Unit, violations: int) -> dict:
    return {**place(matter, unit), "item": matter.item, "category": matter.category,
            "procedure": matter.procedure, "by_procedure": violations == 0,
            "violations": violations, "occurred_on": _day(matter.closed_on)}


def violation_event(matter: Matter, unit: Unit, row: Violation) -> dict:
    return {**place(matter, unit), "violation_id": row.id, "item": matter.item,
            "kind": row.kind, "severity": row.severity, "step": row.step, "reason": row.reason,
            "occurred_on": _day(row.occurred_on)}
