"""Input schemas of the talent service's RPCs (marshmallow, built from ``shared.inputs`` fields:
control characters refused, lengths matching the columns, numbers that fit them, full-width
digits read as digits). ``load`` turns every refusal into ``InvalidInput`` naming the field."""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.talent import models, training_rules
from services.talent.duty_rules import LIST_KINDS, PROJECT_STATUSES, STATUSES
from services.talent.settings import EDUCATION_LEVELS, ROLES, VILLAGE_STATUSES
from services.talent.terms import SENDERS
from shared import inputs
from shared.errors import InvalidInput
from shared.inputs import Date, Decimal, Id, Integer, Text
from shared.validation import load, require_id  # noqa: F401  (the service calls them from here)

EARLIEST = date(1950, 1, 1)
LATEST = date(2100, 12, 31)
GENDERS = ("male", "female")
PROFILE_STANDINGS = ("activist", "non_member")
MAX_COUNT = 1_000_000


def _one_of(choices, **kwargs):
    return Text(validate=validate.OneOf(choices), max_length=40, **kwargs)


def _day(**kwargs):
    return Date(validate=validate.Range(min=EARLIEST, max=LATEST,
                                        error="must be a date from 1950 to 2100"), **kwargs)


def _name(**kwargs):
    return Text(min_length=1, max_length=models.NAME, **kwargs)


def _title(**kwargs):
    return Text(min_length=1, max_length=models.TITLE, **kwargs)


def _count(**kwargs):
    return Integer(minimum=0, maximum=MAX_COUNT, **kwargs)


def _year(**kwargs):
    return Integer(minimum=2000, maximum=2100, **kwargs)


class CadreInput(Schema):
    """``unit_id``: the unit the profile is registered under (the cadre's village or township);
    a caller bound to one unit must name one inside its scope, the county may leave it out."""
    name = _name(required=True)
    gender = _one_of(GENDERS, required=True)
    birth_date = Date(required=True, validate=validate.Range(
        min=date(1920, 1, 1), max=date(2100, 1, 1), error="must be a date from 1920"))
    education = _one_of(EDUCATION_LEVELS, required=True)
    member_id = Id(allow_none=True, load_default=None)
    standing = _one_of(PROFILE_STANDINGS, allow_none=True, load_default=None)
    experience_years = Integer(minimum=0, maximum=80, load_default=0)
    experience = Text(max_length=models.TEXT, multiline=True, allow_none=True, load_default=None)
    registered_on = _day(allow_none=True, load_default=None)
    unit_id = Id(allow_none=True, load_default=None)


class CadreUpdate(Schema):
    """What changes in a profile over time (name, birth date and member link do not)."""
    education = _one_of(EDUCATION_LEVELS)
    experience_years = Integer(minimum=0, maximum=80)
    experience = Text(max_length=models.TEXT, multiline=True, allow_none=True)
    standing = _one_of(PROFILE_STANDINGS)

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of education, experience_years, "
                                  "experience, standing", "payload")


class AppointInput(Schema):
    cadre_id = Id(required=True)
    role = _one_of(ROLES, required=True)
    unit_id = Id(required=True)
    started_on = _day(required=True)
    ends_on = _day(allow_none=True, load_default=None)
    reason = _title(required=True)
    sent_by = _one_of(SENDERS, allow_none=True, load_default=None)

    @validates_schema
    def _term(self, data, **kwargs):
        if data.get("ends_on") and data.get("started_on") and data["ends_on"] <= data["started_on"]:
            raise ValidationError("must be after started_on", "ends_on")
        if data.get("role") == "first_secretary" and data.get("sent_by") is None:
            raise ValidationError("say who sends the first secretary: city or township", "sent_by")
        if data.get("role") not in (None, "first_secretary") and data.get("sent_by") is not None:
            raise ValidationError("only a first secretary is sent by the city or the township",
                                  "sent_by")


class VillageStatusInput(Schema):
    village_id = Id(required=True)
    status = _one_of(VILLAGE_STATUSES, required=True)
    reason = _title(required=True)
    decided_on = _day(required=True)


class ReserveInput(Schema):
    cadre_id = Id(required=True)
    township_id = Id(required=True)
    village_id = Id(allow_none=True, load_default=None)
    added_on = _day(required=True)
    note = Text(max_length=models.TITLE, allow_none=True, load_default=None)


class DutyItemInput(Schema):
    township_id = Id(required=True)
    list_kind = _one_of(LIST_KINDS, required=True)
    title = _title(required=True)
    owner = _name(required=True)
    deadline = _day(required=True)
    problem_id = Id(allow_none=True, load_default=None)
    created_on = _day(allow_none=True, load_default=None)


class DutyStatusInput(Schema):
    item_id = Id(required=True)
    status = _one_of(STATUSES, required=True)
    on = _day(required=True)


class ProjectInput(Schema):
    township_id = Id(required=True)
    name = _title(required=True)
    goal = Text(max_length=models.TEXT, multiline=True, allow_none=True, load_default=None)
    started_on = _day(required=True)


class ProjectStatusInput(Schema):
    project_id = Id(required=True)
    status = _one_of(PROJECT_STATUSES, required=True)
    on = _day(required=True)


class TrainingBaseInput(Schema):
    name = _title(required=True)
    location = _title(required=True)
    township_id = Id(allow_none=True, load_default=None)


def _hours(**kwargs):
    return Decimal(4, 1, validate=validate.Range(min=0, min_inclusive=False, max=200,
                                                 error="must be more than 0 and at most 200"),
                   **kwargs)


class CourseInput(Schema):
    """``township_id``: a township's own course; left out, a course of the county's catalogue
    (which only a county-wide role may add)."""
    title = _title(required=True)
    mode = _one_of(training_rules.MODES, required=True)
    hours = _hours(required=True)
    township_id = Id(allow_none=True, load_default=None)


class SessionInput(Schema):
    course_id = Id(required=True)
    base_id = Id(required=True)
    held_on = _day(required=True)
    hours = _hours(allow_none=True, load_default=None)


class AttendanceInput(Schema):
    session_id = Id(required=True)
    cadre_ids = fields.List(Id(), required=True,
                                   validate=validate.Length(min=1, max=500))
    hours = _hours(allow_none=True, load_default=None)

    @validates_schema
    def _distinct(self, data, **kwargs):
        ids = data.get("cadre_ids") or []
        if len(set(ids)) != len(ids):
            raise ValidationError("name each cadre once", "cadre_ids")


class VotesInput(Schema):
    cadre_id = Id(required=True)
    year = _year(required=True)
    excellent = _count(required=True)
    good = _count(required=True)
    fair = _count(required=True)
    poor = _count(required=True)
    entered_by = _name(required=True)

    @validates_schema
    def _some(self, data, **kwargs):
        if all(k in data for k in ("excellent", "good", "fair", "poor")) and \
                not (data["excellent"] + data["good"] + data["fair"] + data["poor"]):
            raise ValidationError("at least one vote must have been cast", "payload")


class AssessInput(Schema):
    cadre_id = Id(required=True)
    year = _year(required=True)
    assessed_by = _name(required=True)


class WealthLeaderInput(Schema):
    cadre_id = Id(required=True)
    village_id = Id(required=True)
    industry = _name(required=True)
    households_helped = _count(load_default=0)
    since = _day(required=True)


class CooperativeInput(Schema):
    name = _title(required=True)
    industry = _name(required=True)
    village_id = Id(required=True)
    leader_id = Id(allow_none=True, load_default=None)
    member_households = _count(required=True)
    founded_on = _day(required=True)


class ZoneInput(Schema):
    name = _title(required=True)
    industry = _name(required=True)
    leader_id = Id(required=True)
    area_mu = Decimal(10, 1, required=True, validate=validate.Range(
        min=0, min_inclusive=False, error="must be more than 0"))


class ShopInput(Schema):
    leader_id = Id(required=True)
    platform = _name(required=True)
    name = _title(required=True)


class SalesInput(Schema):
    shop_id = Id(required=True)
    year = _year(required=True)
    amount = Decimal(14, 2, required=True, validate=validate.Range(min=0,
                                                                   error="must not be negative"))


class HouseholdsInput(Schema):
    cadre_id = Id(required=True)
    households_helped = _count(required=True)


# -- plain arguments -----------------------------------------------------------------------------

def day(value, field):
    found = inputs.a_date(value, field)
    if not EARLIEST <= found <= LATEST:
        raise InvalidInput({field: ["must be a date from 1950 to 2100"]})
    return found


def optional_day(value, field):
    return None if value is None else day(value, field)


def year(value, field="year"):
    return inputs.whole_number(value, field, 2000, 2100)


def optional_id(value, field):
    return None if value is None else inputs.positive_id(value, field)


def page(offset, limit):
    return (inputs.whole_number(offset, "offset", 0, 10_000_000),
            inputs.whole_number(limit, "limit", 1, 1000))


def reason(value, field="reason"):
    return inputs.text(value, field, models.TITLE)


def name(value, field):
    return inputs.text(value, field, models.NAME)

