"""Events published by the tickets service (its public language: see ``registry``).

Every ticket event carries where the ticket belongs: ``township_id`` (the partition key) and
``branch_id`` (the village or community branch whose station opened it; null for a ticket
opened at a township centre or the city platform), the service point and level handling it,
and ``occurred_on`` (China-local day of the fact). ``member_id`` is the proxy agent's member
record when the ticket's agent is a member (null otherwise), so the stars rulebook can credit
the agent, the branch and the township committee without asking anyone."""
from marshmallow import Schema, fields, validate

from shared.contracts.registry import contract

LEVELS = ("village", "township", "city")
CHANNELS = ("station", "agent", "open311")


class _TicketPlace(Schema):
    ticket_id = fields.Integer(required=True)
    matter_code = fields.String(required=True)
    township_id = fields.Integer(required=True, allow_none=True)
    branch_id = fields.Integer(required=True, allow_none=True)
    service_point_id = fields.Integer(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    occurred_on = fields.Date(required=True)


class _Agent(Schema):
    agent_id = fields.Integer(required=True, allow_none=True)
    member_id = fields.Integer(required=True, allow_none=True)


_PLACE = {"ticket_id": 7, "matter_code": "pension_check", "township_id": 2, "branch_id": 12,
          "service_point_id": 30, "level": "village", "occurred_on": "2026-10-09"}


@contract("tickets", "ticket_opened")
class TicketOpened(_TicketPlace, _Agent):
    """A villager's ticket was opened at a service point (by the villager, by a proxy agent with
    the villager's consent, or through Open311) and routed to the lowest level that can settle it
    (``service_point_id``/``level``); ``due_on`` is the last day of that level's time limit."""
    example = {**_PLACE, "opened_point_id": 30, "channel": "agent", "proxied": True,
               "agent_id": 5, "member_id": 101, "due_on": "2026-10-14"}
    opened_point_id = fields.Integer(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    proxied = fields.Boolean(required=True)
    due_on = fields.Date(required=True)


@contract("tickets", "ticket_escalated")
class TicketEscalated(_TicketPlace):
    """A ticket went up one level (village -> township -> city): the level could not settle it
    (``reason``: cannot_settle) or its time limit ran out (time_limit). ``level`` is the new one."""
    example = {**_PLACE, "level": "township", "service_point_id": 3, "from_level": "village",
               "from_point_id": 30, "reason": "time_limit", "due_on": "2026-10-21"}
    from_level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    from_point_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(("cannot_settle", "time_limit")))
    due_on = fields.Date(required=True)


@contract("tickets", "ticket_resolved")
class TicketResolved(_TicketPlace, _Agent):
    """A ticket was settled at ``resolved_level``. ``on_time``: no time limit was ever breached;
    ``working_days``: from opening to resolution, paused days left out; ``reopened``: this
    resolution follows a reopening (a rule may credit first resolutions only); ``category``: the
    agent member's category (rural, community...) when ``member_id`` is set."""
    example = {**_PLACE, "agent_id": 5, "member_id": 101, "category": "rural",
               "resolved_level": "village", "on_time": True, "working_days": 2, "reopened": False}
    category = fields.String(required=True, allow_none=True)
    resolved_level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    on_time = fields.Boolean(required=True)
    working_days = fields.Integer(required=True)
    reopened = fields.Boolean(required=True)


@contract("tickets", "ticket_closed")
class TicketClosed(_TicketPlace):
    """A resolved ticket was closed, by a person or (``automatic``) by the scheduler after the
    configured days without a reopening."""
    example = {**_PLACE, "automatic": False}
    automatic = fields.Boolean(required=True)


@contract("tickets", "ticket_rated")
class TicketRated(_TicketPlace, _Agent):
    """The villager rated the outcome from 1 (very unsatisfied) to 5 (very satisfied)."""
    example = {**_PLACE, "agent_id": 5, "member_id": 101, "rating": 5}
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))


@contract("tickets", "sla_warning")
class SlaWarning(_TicketPlace):
    """The handling level's time limit ends in ``remaining_days`` working days or fewer (0: today)."""
    example = {**_PLACE, "due_on": "2026-10-14", "remaining_days": 1}
    due_on = fields.Date(required=True)
    remaining_days = fields.Integer(required=True)


@contract("tickets", "sla_breached")
class SlaBreached(_TicketPlace, _Agent):
    """The time limit of ``level`` ran out on ``due_on`` with the ticket unsettled. When the
    level is not the city the ticket went up (``escalated_to``; a ``ticket_escalated`` follows)."""
    example = {**_PLACE, "agent_id": 5, "member_id": 101, "due_on": "2026-10-14",
               "escalated_to": "township"}
    due_on = fields.Date(required=True)
    escalated_to = fields.String(required=True, allow_none=True, validate=validate.OneOf(LEVELS))
