"""Events published by the talent service (三支队伍: township and village Party secretaries,
first secretaries, reserve cadres, rural wealth-creation leaders).

``township_id`` (the partition key) and ``branch_id`` are organisation unit ids as in the members
service. ``member_id`` is null for a cadre who is not a Party member. ``occurred_on`` is the date
of the fact (it decides the stars period of anything the stars rulebook scores). Decimals travel
as strings."""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.contracts.registry import contract

ROLES = ("township_secretary", "village_secretary", "first_secretary")
SENDERS = ("city", "township")
MODES = ("field", "lecture", "interaction")
SOURCES = ("service_star", "review_votes", "rectification_on_time")


class _Post(Schema):
    post_id = fields.Integer(required=True)
    cadre_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit_id = fields.Integer(required=True)
    branch_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True, allow_none=True)
    sent_by = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(SENDERS))
    started_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    reason = fields.String(required=True)
    occurred_on = fields.Date(required=True)


@contract("talent", "cadre_appointed")
class CadreAppointed(_Post):
    """A cadre took up a post for a term: township Party secretary (``unit_id`` the township
    committee, ``branch_id`` null), village Party secretary or first secretary (第一书记;
    ``unit_id`` = ``branch_id`` = the village branch, ``sent_by`` city or township).
    ``ends_on`` is the planned end of the term; ``occurred_on`` = ``started_on``."""
    example = {"post_id": 31, "cadre_id": 7, "member_id": 101, "name": "王建国",
               "role": "village_secretary", "unit_id": 12, "branch_id": 12, "township_id": 2,
               "sent_by": None, "started_on": "2026-03-01", "ends_on": "2031-02-28",
               "reason": "换届选举", "occurred_on": "2026-03-01"}


@contract("talent", "cadre_removed")
class CadreRemoved(_Post):
    """A cadre left a post: ``ended_on`` (= ``occurred_on``) and ``end_reason`` (term ended,
    transferred, dismissed, ...); the other fields describe the post as appointed."""
    example = {"post_id": 31, "cadre_id": 7, "member_id": 101, "name": "王建国",
               "role": "village_secretary", "unit_id": 12, "branch_id": 12, "township_id": 2,
               "sent_by": None, "started_on": "2026-03-01", "ends_on": "2031-02-28",
               "reason": "换届选举", "ended_on": "2026-11-20", "end_reason": "调任乡镇工作",
               "occurred_on": "2026-11-20"}
    ended_on = fields.Date(required=True)
    end_reason = fields.String(required=True)


@contract("talent", "training_attended")
class TrainingAttended(Schema):
    """A cadre attended a training session (``mode``: field, lecture or interaction: 现场教学、
    课堂讲授、互动交流) for ``hours``, on ``occurred_on``. When the cadre is a Party member,
    ``member_id``, ``branch_id``, ``township_id`` and ``category`` are the member's (so the stars
    rulebook can credit the member); otherwise ``member_id`` and ``category`` are null and the
    place is the unit of the cadre's post or entry."""
    example = {"attendance_id": 900, "session_id": 40, "course_id": 3, "base_id": 2,
               "cadre_id": 7, "member_id": 101, "branch_id": 12, "township_id": 2,
               "category": "rural", "mode": "field", "hours": "4.0", "occurred_on": "2026-10-18"}
    attendance_id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    course_id = fields.Integer(required=True)
    base_id = fields.Integer(required=True)
    cadre_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True, allow_none=True)
    branch_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True, allow_none=True)
    category = fields.String(allow_none=True, load_default=None)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    hours = fields.Decimal(required=True, as_string=True)
    occurred_on = fields.Date(required=True)


class SourceScore(Schema):
    class Meta:
        unknown = EXCLUDE  # nested parts ignore fields added later, like the top level

    source = fields.String(required=True)
    weight = fields.Decimal(required=True, as_string=True)
    score = fields.Decimal(required=True, as_string=True)
    explanation = fields.String(required=True)


@contract("talent", "assessment_completed")
class AssessmentCompleted(Schema):
    """A township Party secretary's annual report-and-review assessment (述职评议考核) for
    ``year`` was completed: the score of each source (the committee's Service Star from the
    stars service's closings, the county's review votes, the share of rectification items done
    on time) with its weight and explanation, the weighted ``total`` (0-100) and the ``grade``
    (优秀/良好/一般/较差 by the configured bands) with ``grade_explanation``. ``township_id`` is
    the committee's; ``occurred_on`` the day it was completed."""
    example = {"assessment_id": 5, "cadre_id": 7, "member_id": 101, "township_id": 2,
               "branch_id": None, "year": 2026, "total": "84.20", "grade": "良好",
               "grade_explanation": "84.20 is at least 75.00 (良好) and below 90.00 (优秀)",
               "sources": [{"source": "service_star", "weight": "0.4", "score": "90.00",
                            "explanation": "annual Service Star 2026: 4 stars"}],
               "assessed_by": "组织部 李明", "occurred_on": "2027-01-10"}
    assessment_id = fields.Integer(required=True)
    cadre_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True)
    branch_id = fields.Integer(allow_none=True, load_default=None)
    year = fields.Integer(required=True)
    total = fields.Decimal(required=True, as_string=True)
    grade = fields.String(required=True)
    grade_explanation = fields.String(required=True)
    sources = fields.List(fields.Nested(SourceScore), required=True)
    assessed_by = fields.String(required=True)
    occurred_on = fields.Date(required=True)


@contract("talent", "rectification_overdue")
class RectificationOverdue(Schema):
    """An item of a township secretary's rectification list (整改清单) passed its ``deadline``
    without being done; published once per item, on the day the talent service's timer found it
    (``occurred_on``). ``problem_id`` is the problem-list item it answers, if any."""
    example = {"item_id": 44, "cadre_id": 7, "member_id": 101, "township_id": 2,
               "branch_id": None, "title": "村级活动场所整改", "owner": "张强",
               "deadline": "2026-10-31", "problem_id": 43, "days_overdue": 3,
               "occurred_on": "2026-11-03"}
    item_id = fields.Integer(required=True)
    cadre_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True, allow_none=True)
    township_id = fields.Integer(required=True)
    branch_id = fields.Integer(allow_none=True, load_default=None)
    title = fields.String(required=True)
    owner = fields.String(required=True)
    deadline = fields.Date(required=True)
    problem_id = fields.Integer(allow_none=True, load_default=None)
    days_overdue = fields.Integer(required=True)
    occurred_on = fields.Date(required=True)
