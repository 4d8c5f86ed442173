"""Events published by the notify service (its public language: see ``registry``)."""
from marshmallow import Schema, fields, validate

from shared.contracts.registry import contract


@contract("notify", "message_failed")
class MessageFailed(Schema):
    """A message to a person (``template``, through ``channel``) could not be sent after
    ``attempts`` tries and was given up; it stays replayable (``notify.replay_message``). The
    event it answered is ``event_source``.``event_type`` ``event_id``; ``township_id`` and
    ``branch_id`` are that event's. The recipient's number is not in the payload."""
    example = {"delivery_id": 41, "template": "ticket_resolved", "channel": "sms_http",
               "event_id": "7d6f3b4e-0c1a-4f57-9a55-0f4a3c1b2d3e", "event_source": "tickets",
               "event_type": "ticket_resolved", "township_id": 2, "branch_id": 12,
               "attempts": 12, "last_error": "HTTP 503: gateway busy",
               "occurred_on": "2026-11-27"}
    delivery_id = fields.Integer(required=True)
    template = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("file", "sms_http")))
    event_id = fields.String(required=True)
    event_source = fields.String(required=True)
    event_type = fields.String(required=True)
    township_id = fields.Integer(required=True, allow_none=True)
    branch_id = fields.Integer(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True)
    occurred_on = fields.Date(required=True)
