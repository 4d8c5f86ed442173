"""The audit log: every write through the gateway, appended; read by auditors, never edited."""
from datetime import datetime

from sqlalchemy import select

from services.gateway.models import AuditEntry
from shared.errors import InvalidInput

DETAIL_LIMIT = 2000


def record(session, at, caller, method, path, action, status, address, request_id, detail=None):
    session.add(AuditEntry(at=at, actor=(caller or {}).get("user") or "anonymous",
                           role=(caller or {}).get("role") or "-", method=method,
                           path=path[:500], action=action[:100], status=status,
                           address=(address or "-")[:64], request_id=request_id[:64],
                           detail=None if detail is None else str(detail)[:DETAIL_LIMIT]))


def query(session, actor=None, since=None, until=None, action=None, offset=0, limit=50):
    rows = select(AuditEntry)
    if actor:
        rows = rows.where(AuditEntry.actor == actor)
    if action:
        rows = rows.where(AuditEntry.action == action)
    if since:
        rows = rows.where(AuditEntry.at >= _when(since, "since"))
    if until:
        rows = rows.where(AuditEntry.at < _when(until, "until"))
    found = session.scalars(rows.order_by(AuditEntry.id.desc()).offset(offset).limit(limit))
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "role": e.role,
             "method": e.method, "path": e.path, "action": e.action, "status": e.status,
             "address": e.address, "request_id": e.request_id, "detail": e.detail}
            for e in found]


def _when(value, field):
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput({field: ["must be a date or time like 2026-11-27T08:00:00+08:00"]}) \
            from None
