"""Input schemas of the members service's RPCs.

Call them through :func:`load`, which turns marshmallow's errors into ``InvalidInput`` with flat
field names. "Today" comes from the module-level ``today`` so tests (and the service, for a fixed
business date) can replace it; ``ACTIVITY_MAX_AGE_DAYS`` likewise (config ``activities.max_age_days``).

Fields come from ``shared.inputs``: text refuses control characters, resident IDs and phone numbers
are NFKC-normalised (full-width digits typed by a Chinese input method become ASCII, so one person
is one resident ID), ids fit a BIGINT and decimals their ``Numeric`` column.
"""
import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.members import resident_id as rid
from shared import inputs
from shared.contracts.members import ACTIVITY_KINDS, LEAVE_REASONS, MEMBER_STATUSES, ORG_KINDS
from shared.errors import InvalidInput, flatten_messages

today = date.today
ACTIVITY_MAX_AGE_DAYS = 366
ADULT_AGE = 18
EARLIEST_BIRTH = date(1900, 1, 1)

GENDERS = ("male", "female")
EDUCATION_LEVELS = ("primary", "junior_secondary", "senior_secondary", "vocational", "associate",
                    "bachelor", "master", "doctorate")
TRANSFER_KINDS = ("transfer", "flow_out", "flow_in")
MEETING_KINDS = ("branch_committee", "member_assembly", "group_meeting", "party_lesson")
MOBILE = re.compile(r"1[3-9][0-9]{9}")
LANDLINE = re.compile(r"0[0-9]{2,3}-[0-9]{7,8}")

# Which kind-specific fields each activity kind takes: field -> required. Any other kind-specific
# field must be absent or null.
KIND_FIELDS = {
    "volunteer_service": {"hours": True, "team_id": False, "project": False},
    "meeting": {"meeting_kind": True, "attended": True},
    "study": {"attended": True},
    "blood_donation": {},
    "donation": {"amount": True},
    "pairing": {"households": True},
    "community_report": {},
    "badge_wearing": {},
}
KIND_SPECIFIC = tuple(dict.fromkeys(f for spec in KIND_FIELDS.values() for f in spec))


def load(schema_cls, data, partial=False, field="payload") -> dict:
    """Validate ``data`` (the RPC argument ``field``) with ``schema_cls``; raise ``InvalidInput``
    with flattened field names (``field`` itself when ``data`` is not a dict)."""
    if not isinstance(data, dict):
        raise InvalidInput({field: ["must be an object (a JSON dictionary)"]})
    try:
        return schema_cls().load(data, partial=partial)
    except ValidationError as error:
        raise InvalidInput(flatten_messages(error.messages)) from None


def adult_from(born: date) -> date:
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:  # 29 February
        return date(born.year + ADULT_AGE, 3, 1)


Text = inputs.Text        # stripped, control characters refused
Int = inputs.Integer      # 2.5 refused instead of truncated; fits a BIGINT


def _text(min_len, max_len, **kwargs):
    return Text(validate=validate.Length(min=min_len, max=max_len,
                                         error=f"must be {min_len} to {max_len} characters"
                                         if min_len else f"must be at most {max_len} characters"),
                **kwargs)


def _optional_text(max_len):
    return _text(0, max_len, allow_none=True, load_default=None)


def _id(**kwargs):
    return inputs.Id(**kwargs)


def _optional_id():
    return _id(allow_none=True, load_default=None)


def _one_of(choices, **kwargs):
    return fields.String(validate=validate.OneOf(choices, error=f"must be one of {', '.join(choices)}"),
                         **kwargs)


def _phone(value):
    if not (MOBILE.fullmatch(value) or LANDLINE.fullmatch(value)):
        raise ValidationError("must be an 11-digit mobile number (1[3-9]xxxxxxxxx) "
                              "or a landline such as 0317-1234567")


def _resident_id(value):
    found = rid.problems(value)
    if found:
        raise ValidationError(found)


def ResidentId(**kwargs):  # noqa: N802 - a field factory
    """A resident ID as typed: full-width digits and X normalised (NFKC), upper-cased."""
    return inputs.Code(upper=True, max_length=40, **kwargs)


def _not_future(errors, data, field):
    if field in data and data[field] is not None and data[field] > today():
        errors.setdefault(field, []).append("must not be in the future")


def _raise(errors):
    if errors:
        raise ValidationError(errors)


class OrgUnitInput(Schema):
    name = _text(1, 100, required=True)
    kind = _one_of(ORG_KINDS, required=True)
    parent_id = _id(required=True, allow_none=True)


class MemberInput(Schema):
    """A member record. ``join_date`` is the admission date (start of probation)."""
    name = _text(2, 30, required=True)
    gender = _one_of(GENDERS, required=True)
    ethnicity = _text(1, 20, required=True)
    birth_date = inputs.Date(required=True)
    resident_id = ResidentId(required=True, validate=_resident_id)
    phone = inputs.Code(allow_none=True, load_default=None, max_length=40, validate=_phone)
    education = _one_of(EDUCATION_LEVELS, allow_none=True, load_default=None)
    join_date = inputs.Date(required=True)
    status = _one_of(MEMBER_STATUSES, required=True)
    household_plaque = fields.Boolean(load_default=False)
    branch_id = _id(required=True)

    @validates_schema(skip_on_field_errors=False)
    def _cross_checks(self, data, **kwargs):
        errors = {}
        _not_future(errors, data, "birth_date")
        _not_future(errors, data, "join_date")
        born = data.get("birth_date")
        if born is not None and born < EARLIEST_BIRTH:
            errors.setdefault("birth_date", []).append(f"must be on or after {EARLIEST_BIRTH.isoformat()}")
        if born is not None and data.get("join_date") is not None and data["join_date"] < adult_from(born):
            errors.setdefault("join_date", []).append(
                f"member must be at least {ADULT_AGE} on joining (from {adult_from(born).isoformat()})")
        if data.get("resident_id"):
            found = rid.problems(data["resident_id"], born, data.get("gender"))
            if found:
                errors.setdefault("resident_id", []).extend(found)
        _raise(errors)


class ActivityInput(Schema):
    """One credit-earning activity; kind-specific fields follow ``KIND_FIELDS``."""
    member_id = _id(required=True)
    kind = _one_of(ACTIVITY_KINDS, required=True)
    occurred_on = inputs.Date(required=True)
    hours = inputs.Decimal(6, 2, allow_none=True, load_default=None, validate=validate.Range(
        min=0, min_inclusive=False, max=24, error="must be more than 0 and at most 24"))
    team_id = _optional_id()
    project = _text(1, 100, allow_none=True, load_default=None)
    meeting_kind = _one_of(MEETING_KINDS, allow_none=True, load_default=None)
    attended = fields.Boolean(allow_none=True, load_default=None,
                              truthy=fields.Boolean.truthy | {"是"}, falsy=fields.Boolean.falsy | {"否"})
    amount = inputs.Decimal(12, 2, allow_none=True, load_default=None, validate=validate.Range(
        min=0, min_inclusive=False, max=1_000_000, error="must be more than 0 and at most 1000000"))
    households = Int(allow_none=True, load_default=None,
                     validate=validate.Range(min=1, max=50, error="must be 1 to 50"))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _kind_rules(self, data, original, **kwargs):
        errors = {}
        occurred = data.get("occurred_on")
        if occurred is not None:
            if occurred > today():
                errors["occurred_on"] = ["must not be in the future"]
            elif (today() - occurred).days > ACTIVITY_MAX_AGE_DAYS:
                errors["occurred_on"] = [f"must not be more than {ACTIVITY_MAX_AGE_DAYS} days ago"]
        kind = data.get("kind")
        if kind in KIND_FIELDS and isinstance(original, dict):
            spec = KIND_FIELDS[kind]
            for field in KIND_SPECIFIC:
                given = original.get(field) is not None
                if field not in spec and given:
                    errors[field] = [f"does not apply to kind {kind}"]
                elif spec.get(field) and not given:
                    errors[field] = [f"required for kind {kind}"]
        _raise(errors)


class TransferInput(Schema):
    member_id = _id(required=True)
    to_branch_id = _id(required=True)
    kind = _one_of(TRANSFER_KINDS, required=True)
    on = inputs.Date(required=True)
    note = _optional_text(500)


class LeaveInput(Schema):
    member_id = _id(required=True)
    reason = _one_of(LEAVE_REASONS, required=True)
    on = inputs.Date(required=True)
    note = _optional_text(500)


class TeamInput(Schema):
    name = _text(1, 100, required=True)
    branch_id = _optional_id()
    township_id = _optional_id()
    description = _optional_text(1000)


class ProjectInput(Schema):
    team_id = _id(required=True)
    name = _text(1, 100, required=True)


class StepInput(Schema):
    """One development step as received by RPC; ``development.apply`` checks ``data``."""
    step = _text(1, 32, required=True)
    on = inputs.Date(required=True)
    by = _text(1, 50, required=True)
    data = fields.Dict(keys=fields.String(), load_default=dict)

    @validates_schema(skip_on_field_errors=False)
    def _dates(self, data, **kwargs):
        errors = {}
        _not_future(errors, data, "on")
        _raise(errors)
