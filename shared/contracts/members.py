"""Events published by the members service."""
from marshmallow import Schema, fields, validate

from shared.contracts.registry import contract

ORG_KINDS = ("city_committee", "township_committee", "street_committee",
             "village_branch", "community_branch", "institution_branch", "nonpublic_branch")
CATEGORIES = ("rural", "community", "institution", "nonpublic")
ACTIVITY_KINDS = ("volunteer_service", "meeting", "study", "blood_donation", "donation",
                  "pairing", "community_report", "badge_wearing")
MEMBER_STATUSES = ("probationary", "full")
LEAVE_REASONS = ("transferred_out", "deceased", "expelled", "withdrew")


class _MemberPlace(Schema):
    member_id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True)
    township_id = fields.Integer(required=True, allow_none=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))


@contract("members", "org_unit_created")
class OrgUnitCreated(Schema):
    """A committee or branch was added to the organisation tree."""
    example = {"org_unit_id": 12, "parent_id": 2, "township_id": 2, "kind": "village_branch", "name": "前辛庄村党支部"}
    org_unit_id = fields.Integer(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(ORG_KINDS))
    name = fields.String(required=True)


@contract("members", "org_unit_changed")
class OrgUnitChanged(Schema):
    """A unit was renamed, moved under another parent, or dissolved (``dissolved`` true)."""
    example = {"org_unit_id": 12, "parent_id": 3, "township_id": 3, "kind": "village_branch", "name": "前辛庄村党支部", "dissolved": False, "change": "moved"}
    org_unit_id = fields.Integer(required=True)
    parent_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(ORG_KINDS))
    name = fields.String(required=True)
    dissolved = fields.Boolean(required=True)
    change = fields.String(required=True, validate=validate.OneOf(("renamed", "moved", "dissolved")))


@contract("members", "member_registered")
class MemberRegistered(_MemberPlace):
    """A member record was created. Personal data beyond the name stays in the members service."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural", "name": "王建国", "status": "full", "join_date": "2005-07-01"}
    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))
    join_date = fields.Date(required=True, allow_none=True)


@contract("members", "member_transferred")
class MemberTransferred(_MemberPlace):
    """A member moved to another branch (``kind``: transfer, flow_out or flow_in)."""
    example = {"member_id": 101, "branch_id": 40, "township_id": 2, "category": "community", "from_branch_id": 12, "kind": "transfer"}
    from_branch_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("transfer", "flow_out", "flow_in")))


@contract("members", "member_left")
class MemberLeft(_MemberPlace):
    """A member left the county's records; the record is kept, no further credit accrues."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural", "reason": "deceased", "left_on": "2026-06-01"}
    reason = fields.String(required=True, validate=validate.OneOf(LEAVE_REASONS))
    left_on = fields.Date(required=True)


@contract("members", "member_status_changed")
class MemberStatusChanged(_MemberPlace):
    """Probationary -> full (or the reverse when a probation is extended by decision)."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural", "status": "full"}
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))


@contract("members", "development_step_recorded")
class DevelopmentStepRecorded(Schema):
    """A step of member development (发展党员) was recorded with its controls."""
    example = {"candidate_id": 7, "branch_id": 12, "step": "vote", "stage": "development_target", "recorded_on": "2026-05-12", "recorded_by": "张强", "member_id": None}
    candidate_id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True)
    step = fields.String(required=True)
    stage = fields.String(required=True)
    recorded_on = fields.Date(required=True)
    recorded_by = fields.String(required=True)
    member_id = fields.Integer(allow_none=True, load_default=None)


@contract("members", "activity_recorded")
class ActivityRecorded(_MemberPlace):
    """A member's credit-earning activity happened. Points are the stars service's business.

    Kind-specific fields are null when they do not apply: ``hours``/``team_id``/``project``
    (volunteer_service), ``meeting_kind``/``attended`` (meeting, study), ``amount`` in yuan
    (donation), ``households`` (pairing)."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural", "activity_id": 5001, "kind": "volunteer_service", "occurred_on": "2026-10-18", "hours": "2.5", "team_id": 3, "project": "暖心早餐"}
    activity_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    occurred_on = fields.Date(required=True)
    hours = fields.Decimal(as_string=True, allow_none=True, load_default=None)
    team_id = fields.Integer(allow_none=True, load_default=None)
    project = fields.String(allow_none=True, load_default=None)
    meeting_kind = fields.String(allow_none=True, load_default=None)
    attended = fields.Boolean(allow_none=True, load_default=None)
    amount = fields.Decimal(as_string=True, allow_none=True, load_default=None)
    households = fields.Integer(allow_none=True, load_default=None)


@contract("members", "activity_revoked")
class ActivityRevoked(_MemberPlace):
    """A recorded activity was corrected away or deleted: the compensating fact.

    ``revoked_event_id`` is the id of the ``activity_recorded`` event being cancelled."""
    example = {"member_id": 101, "branch_id": 12, "township_id": 2, "category": "rural", "activity_id": 5001, "revoked_event_id": "6f1c1f5e-8d8e-4c1a-9a55-1f0f5f1d2b3c", "reason": "wrong member"}
    activity_id = fields.Integer(required=True)
    revoked_event_id = fields.String(required=True)
    reason = fields.String(required=True)
