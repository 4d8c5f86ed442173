"""Event payloads and RPC replies of a ticket (pure: built from the ticket row and what the
caller looked up)."""
from __future__ import annotations

from datetime import date, datetime


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def place(ticket, today: date) -> dict:
    return {"ticket_id": ticket.id, "matter_code": ticket.matter_code,
            "township_id": ticket.township_id, "branch_id": ticket.branch_id,
            "service_point_id": ticket.service_point_id, "level": ticket.level,
            "occurred_on": today.isoformat()}


def agent_fields(ticket, member) -> dict:
    return {"agent_id": ticket.agent_id, "member_id": member.id if member is not None else None}


def opened(ticket, member, today) -> dict:
    return {**place(ticket, today), **agent_fields(ticket, member),
            "opened_point_id": ticket.opened_point_id, "channel": ticket.channel,
            "proxied": ticket.agent_id is not None, "due_on": _day(ticket.due_on)}


def escalated(ticket, from_level, from_point_id, reason, today) -> dict:
    return {**place(ticket, today), "from_level": from_level, "from_point_id": from_point_id,
            "reason": reason, "due_on": _day(ticket.due_on)}


def resolved(ticket, member, today) -> dict:
    return {**place(ticket, today), **agent_fields(ticket, member),
            "category": member.category if member is not None else None,
            "resolved_level": ticket.resolved_level, "on_time": not ticket.ever_breached,
            "working_days": ticket.working_days, "reopened": ticket.reopen_count > 0}


def closed(ticket, automatic, today) -> dict:
    return {**place(ticket, today), "automatic": automatic}


def rated(ticket, member, today) -> dict:
    return {**place(ticket, today), **agent_fields(ticket, member), "rating": ticket.rating}


def warning(ticket, remaining, today) -> dict:
    return {**place(ticket, today), "due_on": _day(ticket.due_on), "remaining_days": remaining}


def breached(ticket, member, due, escalated_to, today) -> dict:
    return {**place(ticket, today), **agent_fields(ticket, member), "due_on": _day(due),
            "escalated_to": escalated_to}


def ticket_dict(ticket) -> dict:
    """A ticket as the RPCs answer it (without its history)."""
    return {
        "id": ticket.id, "matter_code": ticket.matter_code, "status": ticket.status,
        "level": ticket.level, "service_point_id": ticket.service_point_id,
        "opened_point_id": ticket.opened_point_id, "township_id": ticket.township_id,
        "branch_id": ticket.branch_id, "channel": ticket.channel,
        "requester_name": ticket.requester_name, "requester_phone": ticket.requester_phone,
        "description": ticket.description, "address": ticket.address,
        "lat": None if ticket.lat is None else float(ticket.lat),
        "long": None if ticket.long is None else float(ticket.long),
        "agent_id": ticket.agent_id,
        "consent": None if ticket.consent_method is None else {
            "method": ticket.consent_method, "given_on": _day(ticket.consent_given_on),
            "form_reference": ticket.consent_reference},
        "opened_at": _moment(ticket.opened_at), "opened_on": _day(ticket.opened_on),
        "received_on": _day(ticket.received_on), "due_on": _day(ticket.due_on),
        "paused_on": _day(ticket.paused_on), "paused_days": ticket.paused_days,
        "breached": ticket.breached_here, "ever_breached": ticket.ever_breached,
        "escalations": ticket.escalations, "resolved_on": _day(ticket.resolved_on),
        "resolved_level": ticket.resolved_level, "outcome": ticket.outcome,
        "working_days": ticket.working_days, "closed_at": _moment(ticket.closed_at),
        "rating": ticket.rating, "rating_comment": ticket.rating_comment,
        "reopen_count": ticket.reopen_count, "updated_at": _moment(ticket.updated_at),
    }


def change_dict(change) -> dict:
    return {"at": _moment(change.at), "action": change.action, "by": change.by,
            "from_status": change.from_status, "to_status": change.to_status,
            "level": change.level, "service_point_id": change.service_point_id,
            "note": change.note}
