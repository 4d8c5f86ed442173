"""Input schemas of the affairs service's RPCs (marshmallow, built from ``shared.inputs`` fields).
``load`` turns every refusal into ``InvalidInput`` naming the field (``attendance.present``,
``evidence.0.sha256``). What depends on the power list (known item, step, meeting form, evidence
kind) is checked against the rules by the functions that use them."""
import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.affairs import quorum
from services.affairs.procedure import STATUSES
from shared.inputs import Code, Date, Decimal, Id, Integer, Text
from shared.validation import load  # noqa: F401  (the service calls it from here)

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_HEADCOUNT = 100_000
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_BASE64 = 8_000_000          # characters; the decoded size is bounded by evidence.max_bytes


def not_in_future(value: date):
    if value < EARLIEST:
        raise ValidationError(f"must be on or after {EARLIEST}")
    if value > date.today():
        raise ValidationError("must not be in the future")


class Flag(fields.Boolean):
    """true or false, nothing else (no "yes", 1 or "0")."""

    def __init__(self, **kwargs):
        super().__init__(truthy={True}, falsy={False}, **kwargs)


def _day(**kwargs):
    return Date(validate=not_in_future, **kwargs)


def _person(**kwargs):
    return Text(min_length=1, max_length=50, **kwargs)


class EvidenceInput(Schema):
    """A file (``content_base64``) stored by the service, or a ``reference`` to one kept
    elsewhere with its ``sha256``."""
    kind = Code(required=True, min_length=1, max_length=32)
    name = Text(required=True, min_length=1, max_length=200)
    content_base64 = fields.String(load_default=None, validate=validate.Length(max=MAX_BASE64))
    media_type = Text(load_default=None, max_length=100)
    reference = Text(load_default=None, min_length=1, max_length=500)
    sha256 = Code(load_default=None, max_length=64)
    step = Code(load_default=None, max_length=40)

    @validates_schema
    def _one_source(self, data, **kwargs):
        if (data.get("content_base64") is None) == (data.get("reference") is None):
            raise ValidationError("give either content_base64 or reference", "content_base64")
        if data.get("sha256") is not None and not SHA256.match(data["sha256"].lower()):
            raise ValidationError("must be 64 hexadecimal digits", "sha256")
        if data.get("reference") is not None and data.get("sha256") is None:
            raise ValidationError("a reference needs the SHA-256 of its content", "sha256")


class AttendanceInput(Schema):
    members = Integer(required=True, minimum=1, maximum=MAX_HEADCOUNT)
    present = Integer(required=True, minimum=0, maximum=MAX_HEADCOUNT)


class VotesInput(Schema):
    votes_for = Integer(required=True, minimum=0, maximum=MAX_HEADCOUNT, data_key="for")
    against = Integer(required=True, minimum=0, maximum=MAX_HEADCOUNT)
    abstain = Integer(required=True, minimum=0, maximum=MAX_HEADCOUNT)


class _Meeting(Schema):
    attendance = fields.Nested(AttendanceInput, load_default=None)
    votes = fields.Nested(VotesInput, load_default=None)
    evidence = fields.List(fields.Nested(EvidenceInput), load_default=list,
                           validate=validate.Length(max=20))

    @validates_schema
    def _figures_agree(self, data, **kwargs):
        attendance, votes = data.get("attendance"), data.get("votes")
        if attendance and votes:
            problems = quorum.count_problems(attendance["members"], attendance["present"],
                                             votes["votes_for"], votes["against"], votes["abstain"])
        elif attendance:
            problems = quorum.count_problems(attendance["members"], attendance["present"], 0, 0, 0)
        else:
            problems = {}
        if problems:
            raise ValidationError(problems)


class ProposeInput(_Meeting):
    branch_id = Id(required=True)
    item = Code(required=True, min_length=1, max_length=40)
    title = Text(required=True, min_length=1, max_length=200)
    description = Text(load_default="", max_length=2000, multiline=True)
    amount = Decimal(14, 2, load_default=None, allow_none=True, validate=validate.Range(min=0))
    proposed_on = _day(required=True)
    form = Code(load_default=None, max_length=40)
    recorded_by = _person(required=True)


class StepInput(_Meeting):
    step = Code(required=True, min_length=1, max_length=40)
    on = _day(required=True)
    form = Code(load_default=None, max_length=40)
    notice_days = Integer(load_default=None, minimum=0, maximum=3650)
    channels = fields.List(Code(min_length=1, max_length=20), load_default=None,
                           validate=validate.Length(min=1, max=10))
    text = Text(load_default=None, max_length=5000, multiline=True)
    note = Text(load_default=None, max_length=2000, multiline=True)
    recorded_by = _person(required=True)
    as_happened = Flag(load_default=False)


class AcceptanceInput(Schema):
    """The supervision committee's final acceptance: the procedure's ``acceptance`` step."""
    on = _day(required=True)
    note = Text(load_default=None, max_length=2000, multiline=True)
    evidence = fields.List(fields.Nested(EvidenceInput), load_default=list,
                           validate=validate.Length(max=20))
    recorded_by = _person(required=True)
    as_happened = Flag(load_default=False)


class ProgressInput(Schema):
    on = _day(required=True)
    percent = Integer(required=True, minimum=0, maximum=100)
    note = Text(required=True, min_length=1, max_length=2000, multiline=True)
    recorded_by = _person(required=True)


class SignOffInput(Schema):
    step = Code(required=True, min_length=1, max_length=40)
    on = _day(required=True)
    signed_by = _person(required=True)
    note = Text(load_default=None, max_length=2000, multiline=True)


class ObjectionInput(Schema):
    step = Code(load_default=None, max_length=40)
    raised_on = _day(required=True)
    raised_by = _person(required=True)
    reason = Text(required=True, min_length=1, max_length=2000, multiline=True)


class AnswerInput(Schema):
    answered_on = _day(required=True)
    answered_by = _person(required=True)
    answer = Text(required=True, min_length=1, max_length=2000, multiline=True)


class MatterFilter(Schema):
    branch_id = Id(load_default=None)
    township_id = Id(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    item = Code(load_default=None, max_length=40)
    year = Integer(load_default=None, minimum=2000, maximum=2100)
    offset = Integer(load_default=0, minimum=0, maximum=10**9)
    limit = Integer(load_default=100, minimum=1, maximum=1000)


class CountsFilter(Schema):
    level = fields.String(load_default="township", validate=validate.OneOf(("township", "village")))
    township_id = Id(load_default=None)
    year = Integer(load_default=None, minimum=2000, maximum=2100)


class OverdueFilter(Schema):
    as_of = Date(load_default=None, validate=validate.Range(min=EARLIEST, max=LATEST))
    township_id = Id(load_default=None)
    branch_id = Id(load_default=None)
    limit = Integer(load_default=500, minimum=1, maximum=5000)


class ViolationFilter(Schema):
    township_id = Id(load_default=None)
    branch_id = Id(load_default=None)
    year = Integer(load_default=None, minimum=2000, maximum=2100)
    limit = Integer(load_default=500, minimum=1, maximum=5000)
