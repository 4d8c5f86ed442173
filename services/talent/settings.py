"""The talent service's settings: ``config/talent.yaml`` merged with the ``talent:`` section of
the running config (each top-level key's mapping merged key by key), validated.

``load(config)`` returns a ``Settings``; a bad value raises ``ValueError("<key.path>: <reason>")``
naming the first offending key, so a service with a broken file stops at start-up saying where."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import config as config_module
from shared.errors import flatten_messages

EDUCATION_LEVELS = ("primary", "junior_secondary", "senior_secondary", "vocational", "associate",
                    "bachelor", "master", "doctorate")
STANDINGS = ("full_member", "probationary_member", "activist", "non_member", "former_member")
ROLES = ("township_secretary", "village_secretary", "first_secretary")
VILLAGE_STATUSES = ("normal", "weak", "special")
CRITERIA = ("age", "education", "experience", "star_level", "home_village")
SOURCES = ("service_star", "review_votes", "rectification_on_time")
VOTES = ("excellent", "good", "fair", "poor")


@dataclass(frozen=True)
class Shortlist:
    scope: str
    size: int
    max_age: int
    min_education: str
    standings: tuple[str, ...]
    min_star_level: int
    star_period: str
    exclude_post_holders: bool
    weights: dict
    age_full_marks_at: int
    experience_full_marks_years: int
    education_points: dict


@dataclass(frozen=True)
class AssessmentRules:
    weights: dict
    star_points: dict
    vote_points: dict
    no_rectification_due: Decimal
    bands: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Settings:
    term_years: dict
    city_sends_to: tuple[str, ...]
    term_ending_within_days: int
    shortlist: Shortlist
    overdue_check_seconds: float
    required_hours_per_year: Decimal
    assessment: AssessmentRules
    stars_timeout_seconds: float
    members_timeout_seconds: float
    today: date | None


def _number(**kwargs):
    kwargs.setdefault("validate", validate.Range(min=0))
    return fields.Decimal(**kwargs)


def _count(minimum=0, **kwargs):
    return fields.Integer(strict=True, validate=validate.Range(min=minimum), **kwargs)


def _mapping(keys, value_field):
    return fields.Dict(keys=fields.String(validate=validate.OneOf(keys)), values=value_field,
                       required=True)


class _Strict(Schema):
    pass


class TermsSchema(_Strict):
    years = _mapping(ROLES, _count(1))

    @validates_schema
    def _every_role(self, data, **kwargs):
        missing = set(ROLES) - set(data["years"])
        if missing:
            raise ValidationError(f"give a term for {', '.join(sorted(missing))}", "years")


class FirstSecretariesSchema(_Strict):
    city_sends_to = fields.List(fields.String(validate=validate.OneOf(VILLAGE_STATUSES)),
                                required=True)
    term_ending_within_days = _count(0, required=True)


class ShortlistSchema(_Strict):
    scope = fields.String(required=True, validate=validate.OneOf(("township", "county")))
    size = _count(1, required=True)
    max_age = _count(18, required=True)
    min_education = fields.String(required=True, validate=validate.OneOf(EDUCATION_LEVELS))
    standings = fields.List(fields.String(validate=validate.OneOf(STANDINGS)), required=True,
                            validate=validate.Length(min=1))
    min_star_level = fields.Integer(strict=True, required=True, validate=validate.Range(0, 5))
    star_period = fields.String(required=True, validate=validate.OneOf(("quarter", "year")))
    exclude_post_holders = fields.Boolean(required=True)
    weights = _mapping(CRITERIA, _number())
    age_full_marks_at = _count(18, required=True)
    experience_full_marks_years = _count(1, required=True)
    education_points = _mapping(EDUCATION_LEVELS, fields.Decimal(validate=validate.Range(0, 1)))

    @validates_schema
    def _complete(self, data, **kwargs):
        if set(data["weights"]) != set(CRITERIA):
            raise ValidationError(f"give a weight for each of {', '.join(CRITERIA)}", "weights")
        if not any(data["weights"].values()):
            raise ValidationError("at least one weight must be above 0", "weights")
        if set(data["education_points"]) != set(EDUCATION_LEVELS):
            raise ValidationError("give points for every education level", "education_points")
        if data["age_full_marks_at"] >= data["max_age"]:
            raise ValidationError("must be below max_age", "age_full_marks_at")


class DutiesSchema(_Strict):
    overdue_check_seconds = fields.Float(required=True, validate=validate.Range(min=0.05))


class TrainingSchema(_Strict):
    required_hours_per_year = _number(required=True)


class BandSchema(_Strict):
    grade = fields.String(required=True, validate=validate.Length(min=1, max=8))
    min = _number(required=True)


class AssessmentSchema(_Strict):
    weights = _mapping(SOURCES, _number())
    star_points = fields.Dict(keys=fields.Integer(validate=validate.Range(0, 5)),
                              values=_number(), required=True)
    vote_points = _mapping(VOTES, _number())
    no_rectification_due = _number(required=True, validate=validate.Range(0, 100))
    bands = fields.List(fields.Nested(BandSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _complete(self, data, **kwargs):
        if set(data["weights"]) != set(SOURCES) or sum(data["weights"].values()) != 1:
            raise ValidationError(f"give a weight for each of {', '.join(SOURCES)}, adding up to 1",
                                  "weights")
        if set(data["star_points"]) != set(range(6)):
            raise ValidationError("give points for every level 0 to 5", "star_points")
        if set(data["vote_points"]) != set(VOTES):
            raise ValidationError(f"give points for each of {', '.join(VOTES)}", "vote_points")
        minimums = [band["min"] for band in data["bands"]]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums) \
                or minimums[-1] != 0:
            raise ValidationError("list bands highest first, each minimum lower than the one "
                                  "before, the last at 0", "bands")


class SettingsSchema(_Strict):
    terms = fields.Nested(TermsSchema, required=True)
    first_secretaries = fields.Nested(FirstSecretariesSchema, required=True)
    shortlist = fields.Nested(ShortlistSchema, required=True)
    duties = fields.Nested(DutiesSchema, required=True)
    training = fields.Nested(TrainingSchema, required=True)
    assessment = fields.Nested(AssessmentSchema, required=True)
    stars_timeout_seconds = fields.Float(required=True, validate=validate.Range(min=0.1, max=60))
    members_timeout_seconds = fields.Float(required=True, validate=validate.Range(min=0.1, max=60))
    today = fields.Date(allow_none=True, load_default=None)


def merged(defaults: dict, overrides: dict | None) -> dict:
    """``defaults`` with ``overrides`` applied: mappings merged one level down."""
    result = dict(defaults)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        else:
            result[key] = value
    return result


def from_mapping(data: dict) -> Settings:
    try:
        loaded = SettingsSchema().load(data)
    except ValidationError as error:
        field, reasons = next(iter(flatten_messages(error.messages).items()))
        raise ValueError(f"{field}: {reasons[0]}") from None
    rules = loaded["shortlist"]
    assessment = loaded["assessment"]
    return Settings(
        term_years=dict(loaded["terms"]["years"]),
        city_sends_to=tuple(loaded["first_secretaries"]["city_sends_to"]),
        term_ending_within_days=loaded["first_secretaries"]["term_ending_within_days"],
        shortlist=Shortlist(**{**rules, "standings": tuple(rules["standings"])}),
        overdue_check_seconds=loaded["duties"]["overdue_check_seconds"],
        required_hours_per_year=loaded["training"]["required_hours_per_year"],
        assessment=AssessmentRules(
            weights=assessment["weights"], star_points=assessment["star_points"],
            vote_points=assessment["vote_points"],
            no_rectification_due=assessment["no_rectification_due"],
            bands=tuple((band["grade"], band["min"]) for band in assessment["bands"])),
        stars_timeout_seconds=loaded["stars_timeout_seconds"],
        members_timeout_seconds=loaded["members_timeout_seconds"],
        today=loaded["today"])


def load(config: dict | None = None) -> Settings:
    """``config/talent.yaml`` with the running config's ``talent:`` section over it."""
    return from_mapping(merged(config_module.load_yaml("talent.yaml"),
                               (config or {}).get("talent")))
