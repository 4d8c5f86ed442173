"""Events published by the affairs service: village major matters under 四议两公开一执行一监督.

Every payload names the matter and its place: ``branch_id`` (the village branch, an org unit id
as in members), ``township_id`` (the relay's partition key) and ``branch_kind`` (``village``,
as the stars rulebook names branch kinds). ``occurred_on`` is the day the fact happened (the
step's date), which decides the period it is scored in."""
from marshmallow import Schema, fields, validate

from shared.contracts.registry import contract

STATUSES = ("deliberating", "resolved", "executing", "completed", "ended")
SEVERITIES = ("major", "minor")


class _Place(Schema):
    matter_id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True)
    township_id = fields.Integer(required=True, allow_none=True)
    branch_kind = fields.String(required=True)
    occurred_on = fields.Date(required=True)


@contract("affairs", "matter_proposed")
class MatterProposed(_Place):
    """A village branch proposed a major matter (提议) under an item of the power list; the item
    and the amount decided the procedure it must pass."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "item": "major_spending", "category": "democratic_decision", "procedure": "full",
               "title": "村内主街道硬化", "amount": "86000.00", "occurred_on": "2026-03-02"}
    item = fields.String(required=True)
    category = fields.String(required=True)
    procedure = fields.String(required=True)
    title = fields.String(required=True)
    amount = fields.Decimal(as_string=True, allow_none=True, load_default=None)


@contract("affairs", "matter_step_recorded")
class MatterStepRecorded(_Place):
    """A step of a matter's procedure was recorded (a meeting with its attendance and votes, a
    publication, the start of execution, the acceptance). ``outcome``: adopted / rejected for
    meetings, recorded otherwise; ``as_happened``: recorded as it happened although out of
    procedure (see procedure_violation_detected); ``status``: the matter's status after it."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "step_id": 4, "step": "villagers_assembly", "outcome": "adopted",
               "form": "representatives_meeting", "members": 45, "present": 31, "votes_for": 27,
               "votes_against": 2, "votes_abstain": 2, "as_happened": False, "status": "resolved",
               "occurred_on": "2026-03-20"}
    step_id = fields.Integer(required=True)
    step = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("adopted", "rejected", "recorded")))
    form = fields.String(allow_none=True, load_default=None)
    members = fields.Integer(allow_none=True, load_default=None)
    present = fields.Integer(allow_none=True, load_default=None)
    votes_for = fields.Integer(allow_none=True, load_default=None)
    votes_against = fields.Integer(allow_none=True, load_default=None)
    votes_abstain = fields.Integer(allow_none=True, load_default=None)
    as_happened = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


@contract("affairs", "matter_resolved")
class MatterResolved(_Place):
    """The deciding meeting of the matter's procedure (the villagers' or representatives'
    assembly for the full procedure) adopted the resolution (决议)."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "item": "major_spending", "category": "democratic_decision", "procedure": "full",
               "step": "villagers_assembly", "occurred_on": "2026-03-20"}
    item = fields.String(required=True)
    category = fields.String(required=True)
    procedure = fields.String(required=True)
    step = fields.String(required=True)


@contract("affairs", "matter_published")
class MatterPublished(_Place):
    """A resolution or an implementation result was made public (公开) at a stable ``url`` (its
    QR code opens it), as record ``seq`` of the village's hash chain with ``record_hash``."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "record_id": 7, "kind": "resolution", "seq": 3,
               "url": "https://jiceng.example.org/gongkai/villages/12/records/3",
               "notice_days": 7, "record_hash": "0" * 64, "occurred_on": "2026-03-21"}
    record_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("resolution", "implementation")))
    seq = fields.Integer(required=True)
    url = fields.String(required=True)
    notice_days = fields.Integer(required=True)
    record_hash = fields.String(required=True)


@contract("affairs", "matter_completed")
class MatterCompleted(_Place):
    """The supervision committee accepted the executed matter (验收): it is complete.
    ``by_procedure`` is true when no violation of the procedure was found on it."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "item": "major_spending", "category": "democratic_decision", "procedure": "full",
               "by_procedure": True, "violations": 0, "occurred_on": "2026-06-30"}
    item = fields.String(required=True)
    category = fields.String(required=True)
    procedure = fields.String(required=True)
    by_procedure = fields.Boolean(required=True)
    violations = fields.Integer(required=True)


@contract("affairs", "procedure_violation_detected")
class ProcedureViolationDetected(_Place):
    """A step was recorded as it happened although it breaks the procedure (a step skipped,
    execution before the resolution, a meeting without quorum, a step out of order, a
    publication shorter than its notice period). ``severity``: major (decided or carried out
    outside the procedure) or minor (a formal slip), as config/affairs.yaml weighs each kind."""
    example = {"matter_id": 1, "branch_id": 12, "township_id": 2, "branch_kind": "village",
               "violation_id": 3, "item": "major_spending", "kind": "execution_before_resolution",
               "severity": "major", "step": "resolution_published",
               "reason": "村民委员会组织实施 is recorded before the 决议公开 (resolution_published)",
               "occurred_on": "2026-03-25"}
    violation_id = fields.Integer(required=True)
    item = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    step = fields.String(required=True)
    reason = fields.String(required=True)
