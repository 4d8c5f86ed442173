"""Tickets (functions of a session): opening with routing and consent, every status change with
its history and events, escalation and reassignment. The rules themselves are in
``lifecycle`` (what is allowed), ``routing`` (where to) and ``sla`` (time limits)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from services.tickets import catalogue, directory, lifecycle, network, payloads, routing, sla
from services.tickets.models import KnownMember, ServicePoint, Ticket, TicketChange
from shared.errors import Conflict, InvalidInput, NotFound

SCHEDULER = "scheduler"


def stamp(now: datetime) -> datetime:
    """A moment as stored: UTC without a zone."""
    return now.astimezone(timezone.utc).replace(tzinfo=None)


def check_consent(settings, consent: dict, today: date):
    """How, when and the signed form: the method must be a configured one, the day neither in
    the future nor older than the configured maximum."""
    if consent["method"] not in settings.consent_methods:
        raise InvalidInput({"consent.method": [f"must be one of {', '.join(settings.consent_methods)}"]})
    given = consent["given_on"]
    if given > today:
        raise InvalidInput({"consent.given_on": ["is in the future"]})
    if given < today - timedelta(days=settings.consent_max_age_days):
        raise InvalidInput({"consent.given_on": [
            f"is older than {settings.consent_max_age_days} days: have the villager sign a new form"]})


def open_ticket(session, settings, data, now: datetime, channel=None, client=None) -> dict:
    today = sla.local_date(now)
    if data.get("consent"):
        check_consent(settings, data["consent"], today)
    origin = network.point(session, data["service_point_id"], active=True)
    matter = catalogue.matter(session, data["matter_code"], active=True)
    agent = None
    if data.get("agent_id"):
        agent = network.agent(session, data["agent_id"])
        if not agent.active:
            raise Conflict(f"agent {agent.id} ({agent.name}) is retired")
        if agent.service_point_id != origin.id:
            raise Conflict(f"agent {agent.id} ({agent.name}) is an agent of another service point")
    level = routing.settling_level(origin.level, matter.lowest_level)
    handler = network.point_at_level(session, origin, level)
    consent = data.get("consent") or {}
    ticket = Ticket(
        matter_code=matter.code, opened_point_id=origin.id, service_point_id=handler.id,
        level=level, status="open", township_id=origin.township_id,
        branch_id=origin.unit_id if origin.level == "village" else None,
        channel=channel or ("agent" if agent else "station"),
        requester_name=data["requester_name"], requester_phone=data.get("requester_phone"),
        description=data.get("description") or "", address=data.get("address"),
        lat=data.get("lat"), long=data.get("long"), open311_client=client,
        agent_id=agent.id if agent else None, consent_method=consent.get("method"),
        consent_given_on=consent.get("given_on"), consent_reference=consent.get("form_reference"),
        opened_at=stamp(now), opened_on=today, received_on=today,
        due_on=sla.due_on(settings.calendar, today, matter.time_limit_days),
        breached_here=False, ever_breached=False, paused_days=0, escalations=0, reopen_count=0,
        updated_at=stamp(now))
    session.add(ticket)
    session.flush()
    where = handler.name if handler.id == origin.id else f"{handler.name} (routed up from {origin.name})"
    record(session, ticket, "open", data["by"], None, now, f"{matter.name}: handled by {where}")
    session.publish("ticket_opened", payloads.opened(ticket, agent_member(session, ticket), today))
    return payloads.ticket_dict(ticket)


def unit_of(session, ticket_id) -> int | None:
    """The organisation unit a ticket concerns: the one hosting the service point where it was
    opened (a village ticket is its village's wherever escalation takes it; a ticket opened at
    a township centre is the township's). None when there is no such ticket."""
    return session.scalar(select(ServicePoint.unit_id).join(
        Ticket, Ticket.opened_point_id == ServicePoint.id).where(Ticket.id == ticket_id))


def ticket_for_update(session, ticket_id) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket


def agent_member(session, ticket) -> KnownMember | None:
    """The ticket's proxy agent's member record, when the agent is a member."""
    if ticket.agent_id is None:
        return None
    agent = network.agent(session, ticket.agent_id)
    return session.get(KnownMember, agent.member_id) if agent.member_id else None


def record(session, ticket, action, by, before, now, note=None):
    session.add(TicketChange(ticket_id=ticket.id, at=stamp(now), action=action, by=by,
                             from_status=before, to_status=ticket.status, level=ticket.level,
                             service_point_id=ticket.service_point_id,
                             note=(note or None) and note[:1000]))


def act(session, settings, ticket_id, action, data, now: datetime, by=None) -> dict:
    """Apply one action to a ticket: allowed by ``lifecycle.decide`` or refused with ``Conflict``
    and the reason; on success the change is kept in the history and its event published."""
    ticket = ticket_for_update(session, ticket_id)
    today = sla.local_date(now)
    facts = lifecycle.Facts(status=ticket.status, level=ticket.level,
                            rated=ticket.rating is not None, resolved_on=ticket.resolved_on,
                            today=today, reopen_window_days=settings.reopen_window_days)
    try:
        after = lifecycle.decide(action, facts)
    except lifecycle.Refused as refused:
        raise Conflict(f"ticket {ticket.id}: {refused.reason}") from None
    before = ticket.status
    note = ACTIONS[action](session, settings, ticket, data, today, now)
    ticket.status = after
    ticket.updated_at = stamp(now)
    parts = [p for p in (note, data.get("note")) if p]
    record(session, ticket, action, by or data["by"], before, now, "; ".join(parts))
    return payloads.ticket_dict(ticket)


def _nothing(session, settings, ticket, data, today, now):
    return None


def _wait(session, settings, ticket, data, today, now):
    ticket.paused_on = today
    return f"waiting on the {data['waiting_on']}: clock paused"


def _resume(session, settings, ticket, data, today, now):
    due, days = sla.due_after_pause(settings.calendar, ticket.due_on, ticket.paused_on, today)
    ticket.due_on, ticket.paused_on = due, None
    ticket.paused_days += days
    return f"clock resumed after {days} paused working day(s): due {due}"


def _resolve(session, settings, ticket, data, today, now):
    ticket.resolved_at, ticket.resolved_on = stamp(now), today
    ticket.resolved_level, ticket.outcome = ticket.level, data["outcome"]
    ticket.working_days = sla.working_days_taken(settings.calendar, ticket.opened_on, today,
                                                 ticket.paused_days)
    session.publish("ticket_resolved",
                    payloads.resolved(ticket, agent_member(session, ticket), today))
    return data["outcome"]


def _close(session, settings, ticket, data, today, now, automatic=False):
    ticket.closed_at = stamp(now)
    session.publish("ticket_closed", payloads.closed(ticket, automatic, today))
    return "closed automatically: no reopening within the days allowed" if automatic else None


def _reopen(session, settings, ticket, data, today, now):
    matter = catalogue.matter(session, ticket.matter_code)
    ticket.reopen_count += 1
    ticket.received_on = today
    ticket.due_on = sla.due_on(settings.calendar, today, matter.time_limit_days)
    ticket.warned_for, ticket.breached_here, ticket.paused_on = None, False, None
    ticket.resolved_at = ticket.resolved_on = ticket.resolved_level = ticket.outcome = None
    ticket.working_days = ticket.closed_at = ticket.rating = ticket.rating_comment = None
    return f"reopened: {data['reason']}; due {ticket.due_on}"


def escalate(session, settings, ticket, today, now, reason_kind, reason_text) -> str:
    """Move the ticket up one level with a fresh time limit; publishes ``ticket_escalated``."""
    to_level = lifecycle.next_level(ticket.level)
    current = network.point(session, ticket.service_point_id)
    target = network.point_at_level(session, current, to_level)
    matter = catalogue.matter(session, ticket.matter_code)
    from_level, from_point = ticket.level, ticket.service_point_id
    ticket.level, ticket.service_point_id = to_level, target.id
    ticket.received_on = today
    ticket.due_on = sla.due_on(settings.calendar, today, matter.time_limit_days)
    ticket.warned_for, ticket.breached_here, ticket.paused_on = None, False, None
    ticket.escalations += 1
    session.publish("ticket_escalated",
                    payloads.escalated(ticket, from_level, from_point, reason_kind, today))
    return f"escalated {from_level} -> {to_level} ({target.name}): {reason_text}; due {ticket.due_on}"


def _escalate(session, settings, ticket, data, today, now):
    return escalate(session, settings, ticket, today, now, "cannot_settle", data["reason"])


def _reassign(session, settings, ticket, data, today, now):
    target = network.point(session, data.get("service_point_id") or ticket.service_point_id,
                           active=True)
    if target.level != ticket.level:
        raise Conflict(f"ticket {ticket.id}: service point {target.id} is at the {target.level} "
                       f"level, the ticket at the {ticket.level} level (escalate to go up)")
    agent_id = data.get("agent_id") or ticket.agent_id
    if data.get("agent_id"):
        agent = network.agent(session, data["agent_id"])
        if not agent.active:
            raise Conflict(f"agent {agent.id} ({agent.name}) is retired")
        if agent.service_point_id not in (target.id, ticket.opened_point_id):
            raise Conflict(f"agent {agent.id} ({agent.name}) is an agent of another service point")
    if target.id == ticket.service_point_id and agent_id == ticket.agent_id:
        raise Conflict(f"ticket {ticket.id} is already with service point {target.id}"
                       + (f" and agent {agent_id}" if agent_id else ""))
    ticket.service_point_id, ticket.agent_id = target.id, agent_id
    return f"reassigned to {target.name}" + (f", agent {agent_id}" if agent_id else "")


def _rate(session, settings, ticket, data, today, now):
    ticket.rating, ticket.rating_comment = data["rating"], data.get("comment")
    session.publish("ticket_rated", payloads.rated(ticket, agent_member(session, ticket), today))
    return f"rated {data['rating']}" + (f": {data['comment']}" if data.get("comment") else "")


ACTIONS = {"accept": _nothing, "start": _nothing, "wait": _wait, "resume": _resume,
           "resolve": _resolve, "close": _close, "reopen": _reopen, "escalate": _escalate,
           "reassign": _reassign, "rate": _rate}


def close_automatically(session, settings, ticket, now):
    today = sla.local_date(now)
    note = _close(session, settings, ticket, {}, today, now, automatic=True)
    before, ticket.status, ticket.updated_at = ticket.status, "closed", stamp(now)
    record(session, ticket, "close", SCHEDULER, before, now, note)


def detail(session, ticket_id) -> dict:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    changes = session.scalars(select(TicketChange).where(TicketChange.ticket_id == ticket.id)
                              .order_by(TicketChange.id))
    return {**payloads.ticket_dict(ticket), "history": [payloads.change_dict(c) for c in changes]}


def list_tickets(session, query) -> list[dict]:
    """Newest first, filtered by ``query``: ``service_point_id`` (the point handling it now),
    ``township_id``, ``status``, and ``unit_id``: the tickets concerning that unit or a unit
    under it (opened at a service point such a unit hosts, see ``unit_of``)."""
    statement = select(Ticket).order_by(Ticket.id.desc())
    for field in ("service_point_id", "township_id", "status"):
        if query.get(field) is not None:
            statement = statement.where(getattr(Ticket, field) == query[field])
    if query.get("unit_id") is not None:
        units = sorted(directory.subtree(session, query["unit_id"]))
        statement = statement.where(Ticket.opened_point_id.in_(
            select(ServicePoint.id).where(ServicePoint.unit_id.in_(units))))
    statement = statement.offset(query.get("offset", 0)).limit(query.get("limit", 100))
    return [payloads.ticket_dict(t) for t in session.scalars(statement)]

