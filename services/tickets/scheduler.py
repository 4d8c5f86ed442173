"""The time-limit scan the service's ``@timer`` runs (a function of a session and a moment):
warnings before a breach, breaches (with escalation by time) and automatic closing.

Safe beside other processes: the rows it works on are locked with ``SKIP LOCKED`` on PostgreSQL
(another process's scan or an RPC holding a ticket skips it this round), and each warning or
breach is recorded on the ticket (``warned_for`` the due date, ``breached_here``) in the same
transaction as its event, so a ticket is warned once per due date and breached once per level.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from services.tickets import lifecycle, network, payloads, sla, ticket_flow
from services.tickets.models import Ticket
from shared.errors import Conflict

log = logging.getLogger(__name__)


def scan(session, settings, now: datetime, limit: int = 500) -> dict:
    today = sla.local_date(now)
    calendar = settings.calendar
    horizon = sla.look_ahead(calendar, today, settings.warn_before_days)
    due = session.scalars(
        select(Ticket).where(Ticket.status.in_(lifecycle.ACTIVE), Ticket.breached_here.is_(False),
                             Ticket.due_on <= horizon)
        .order_by(Ticket.due_on, Ticket.id).limit(limit).with_for_update(skip_locked=True)).all()
    counts = {"warnings": 0, "breaches": 0, "escalations": 0, "closed": 0}
    for ticket in due:
        if sla.is_breached(today, ticket.due_on):
            counts["breaches"] += 1
            counts["escalations"] += breach(session, settings, ticket, today, now)
        elif sla.needs_warning(calendar, today, ticket.due_on, settings.warn_before_days,
                               ticket.warned_for):
            counts["warnings"] += 1
            warn(session, settings, ticket, today, now)
    counts["closed"] = close_settled(session, settings, today, now, limit)
    return counts


def warn(session, settings, ticket, today, now):
    remaining = sla.remaining_days(settings.calendar, today, ticket.due_on)
    ticket.warned_for = ticket.due_on
    ticket_flow.record(session, ticket, "warn", ticket_flow.SCHEDULER, ticket.status, now,
                       f"{remaining} working day(s) left: due {ticket.due_on}")
    session.publish("sla_warning", payloads.warning(ticket, remaining, today))


def breach(session, settings, ticket, today, now) -> int:
    """Record the breach of the current level; escalate by time when configured and possible.
    Returns 1 when the ticket went up a level."""
    due, level = ticket.due_on, ticket.level
    ticket.breached_here = ticket.ever_breached = True
    to_level = lifecycle.next_level(level) if settings.escalate_on_breach else None
    if to_level is not None:
        try:
            network.point_at_level(session, network.point(session, ticket.service_point_id), to_level)
        except Conflict as missing:
            log.warning("ticket %s breached at the %s level and cannot go up: %s", ticket.id, level, missing)
            to_level = None
    member = ticket_flow.agent_member(session, ticket)
    session.publish("sla_breached", payloads.breached(ticket, member, due, to_level, today))
    note = f"time limit of the {level} level ran out on {due}"
    before = ticket.status
    ticket_flow.record(session, ticket, "breach", ticket_flow.SCHEDULER, before, now, note)
    if to_level is None:
        return 0
    moved = ticket_flow.escalate(session, settings, ticket, today, now, "time_limit", note)
    ticket.status, ticket.updated_at = "open", ticket_flow.stamp(now)
    ticket_flow.record(session, ticket, "escalate", ticket_flow.SCHEDULER, before, now, moved)
    return 1


def close_settled(session, settings, today, now, limit) -> int:
    """Close resolved tickets nobody closed within ``auto_close_days`` of their resolution."""
    last = today - timedelta(days=settings.auto_close_days)
    settled = session.scalars(
        select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_on <= last)
        .order_by(Ticket.resolved_on, Ticket.id).limit(limit).with_for_update(skip_locked=True)).all()
    for ticket in settled:
        ticket_flow.close_automatically(session, settings, ticket, now)
    return len(settled)
