"""Input schemas of the tickets service's RPCs (marshmallow, built from ``shared.inputs`` fields).
``load`` turns every refusal into ``InvalidInput`` naming the field."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.tickets.lifecycle import LEVELS
from shared import inputs
from shared.validation import load  # noqa: F401  (the service calls it from here)

TIME = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="must be a time like 08:30")
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$",
                       error="must be lower-case letters, digits and _ (starting with a letter)")
PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,19}$", error="must be a phone number")


def _phone(**kwargs):
    return inputs.Code(max_length=20, validate=PHONE, **kwargs)


class ServicePointInput(Schema):
    unit_id = inputs.Id(required=True)
    name = inputs.Text(min_length=1, max_length=100)


class MatterInput(Schema):
    code = inputs.Code(required=True, max_length=40, validate=CODE)
    name = inputs.Text(required=True, min_length=1, max_length=100)
    group = inputs.Text(max_length=40)
    description = inputs.Text(max_length=500, multiline=True)
    lowest_level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    time_limit_days = inputs.Integer(required=True, strict=True, minimum=1, maximum=365)
    documents = fields.List(inputs.Text(min_length=1, max_length=100), validate=validate.Length(max=30))
    active = fields.Boolean()


class ShiftInput(Schema):
    weekday = inputs.Integer(required=True, strict=True, minimum=1, maximum=7)
    starts = fields.String(required=True, validate=TIME)
    ends = fields.String(required=True, validate=TIME)
    cadre_name = inputs.Text(required=True, min_length=1, max_length=30)
    member_id = inputs.Id(allow_none=True)

    @validates_schema
    def ends_after_start(self, data, **kwargs):
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise ValidationError("must be after starts", "ends")


class RotaInput(Schema):
    shifts = fields.List(fields.Nested(ShiftInput), required=True, validate=validate.Length(max=70))


class AgentInput(Schema):
    service_point_id = inputs.Id(required=True)
    name = inputs.Text(required=True, min_length=1, max_length=30)
    phone = _phone(allow_none=True)
    member_id = inputs.Id(allow_none=True)


class ConsentInput(Schema):
    method = inputs.Text(required=True, min_length=1, max_length=24)
    given_on = inputs.Date(required=True)
    form_reference = inputs.Text(required=True, min_length=1, max_length=100)


class OpenTicketInput(Schema):
    service_point_id = inputs.Id(required=True)
    matter_code = inputs.Code(required=True, max_length=40, validate=CODE)
    requester_name = inputs.Text(required=True, min_length=1, max_length=60)
    requester_phone = _phone(allow_none=True)
    description = inputs.Text(max_length=4000, multiline=True)
    address = inputs.Text(max_length=200, allow_none=True)
    agent_id = inputs.Id(allow_none=True)
    consent = fields.Nested(ConsentInput, allow_none=True)
    by = inputs.Text(required=True, min_length=1, max_length=100)

    @validates_schema
    def consent_goes_with_an_agent(self, data, **kwargs):
        if data.get("agent_id") and not data.get("consent"):
            raise ValidationError("is required when a proxy agent opens the ticket "
                                  "(how, when and the signed form's reference)", "consent")
        if data.get("consent") and not data.get("agent_id"):
            raise ValidationError("is only recorded for a ticket opened by a proxy agent", "consent")


class ActionInput(Schema):
    by = inputs.Text(required=True, min_length=1, max_length=100)
    note = inputs.Text(max_length=1000, multiline=True, allow_none=True)


class WaitInput(ActionInput):
    waiting_on = fields.String(required=True, validate=validate.OneOf(("villager", "department")))


class ResolveInput(ActionInput):
    outcome = inputs.Text(required=True, min_length=1, max_length=1000, multiline=True)


class EscalateInput(ActionInput):
    reason = inputs.Text(required=True, min_length=1, max_length=1000, multiline=True)


class ReopenInput(EscalateInput):
    pass


class ReassignInput(ActionInput):
    service_point_id = inputs.Id(allow_none=True)
    agent_id = inputs.Id(allow_none=True)

    @validates_schema
    def somewhere_to_go(self, data, **kwargs):
        if not data.get("service_point_id") and not data.get("agent_id"):
            raise ValidationError("give service_point_id, agent_id or both", "service_point_id")


class RateInput(ActionInput):
    rating = inputs.Integer(required=True, strict=True, minimum=1, maximum=5)
    comment = inputs.Text(max_length=500, multiline=True, allow_none=True)


class TicketQuery(Schema):
    service_point_id = inputs.Id(allow_none=True)
    township_id = inputs.Id(allow_none=True)
    unit_id = inputs.Id(allow_none=True)
    status = fields.String(allow_none=True, validate=validate.OneOf(
        ("open", "accepted", "in_progress", "waiting", "resolved", "closed")))
    offset = inputs.Integer(strict=True, minimum=0, maximum=10_000_000)
    limit = inputs.Integer(strict=True, minimum=1, maximum=500)
