"""Measures per service point (station), township and county for a period, from the tickets
table (functions of a session; the arithmetic is ``measures``)."""
from __future__ import annotations

import base64
from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from services.tickets import export, measures
from services.tickets.models import ServicePoint, Ticket, Unit
from shared.errors import InvalidInput, NotFound

SCOPES = ("station", "township", "county")
MAX_PERIOD_DAYS = 366


def check_period(date_from: date, date_to: date):
    if date_to < date_from:
        raise InvalidInput({"date_to": ["must not be before date_from"]})
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise InvalidInput({"date_to": [f"a period is at most {MAX_PERIOD_DAYS} days"]})


def _scope_filter(scope, scope_id):
    if scope == "station":
        return [Ticket.opened_point_id == scope_id]
    if scope == "township":
        return [Ticket.township_id == scope_id]
    return []


def _resolved_rows(session, where, date_from, date_to):
    return session.execute(select(
        Ticket.opened_point_id, Ticket.township_id, Ticket.resolved_level, Ticket.working_days,
        Ticket.ever_breached, Ticket.rating).where(
        Ticket.resolved_on >= date_from, Ticket.resolved_on <= date_to, *where)).all()


def _as_resolved(row) -> measures.Resolved:
    return measures.Resolved(level=row.resolved_level, working_days=row.working_days or 0,
                             on_time=not row.ever_breached, rating=row.rating)


def for_scope(session, scope, scope_id, date_from, date_to) -> dict:
    check_period(date_from, date_to)
    name = _scope_name(session, scope, scope_id)
    where = _scope_filter(scope, scope_id)
    opened = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.opened_on >= date_from, Ticket.opened_on <= date_to, *where))
    rows = _resolved_rows(session, where, date_from, date_to)
    return {"scope": scope, "scope_id": scope_id, "name": name,
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            **measures.summarise(opened, [_as_resolved(r) for r in rows])}


def _scope_name(session, scope, scope_id) -> str:
    if scope == "county":
        return "全县（市）"
    if scope == "station":
        point = session.get(ServicePoint, scope_id)
        if point is None:
            raise NotFound(f"service point {scope_id} does not exist")
        return point.name
    unit = session.get(Unit, scope_id)
    if unit is None or unit.kind not in ("township_committee", "street_committee"):
        raise NotFound(f"township {scope_id} is not known to tickets")
    return unit.name


def table(session, date_from, date_to) -> list[dict]:
    """Every row of the export: the county, each township, each service point that has tickets
    or is a station, in that order."""
    check_period(date_from, date_to)
    opened = defaultdict(int)
    for point_id, township_id, count in session.execute(
            select(Ticket.opened_point_id, Ticket.township_id, func.count()).where(
                Ticket.opened_on >= date_from, Ticket.opened_on <= date_to)
            .group_by(Ticket.opened_point_id, Ticket.township_id)):
        opened[("station", point_id)] += count
        opened[("township", township_id)] += count
        opened[("county", None)] += count
    resolved = defaultdict(list)
    for row in _resolved_rows(session, [], date_from, date_to):
        item = _as_resolved(row)
        resolved[("station", row.opened_point_id)].append(item)
        resolved[("township", row.township_id)].append(item)
        resolved[("county", None)].append(item)
    points = session.scalars(select(ServicePoint).order_by(ServicePoint.township_id, ServicePoint.id)).all()
    townships = {u.id: u for u in session.scalars(select(Unit).where(
        Unit.kind.in_(("township_committee", "street_committee"))).order_by(Unit.id))}
    rows = [_row("county", None, "全县（市）", None, opened, resolved)]
    for township_id, unit in townships.items():
        if ("township", township_id) in opened or ("township", township_id) in resolved or \
                any(p.township_id == township_id for p in points):
            rows.append(_row("township", township_id, unit.name, township_id, opened, resolved))
    for point in points:
        if point.level == "village" or ("station", point.id) in opened:
            rows.append(_row("station", point.id, point.name, point.township_id, opened, resolved))
    return rows


def _row(scope, scope_id, name, township_id, opened, resolved) -> dict:
    key = (scope, scope_id)
    return {"scope": scope, "scope_id": scope_id, "name": name, "township_id": township_id,
            **measures.summarise(opened.get(key, 0), resolved.get(key, []))}


def export_file(session, date_from, date_to, fmt) -> dict:
    rows = table(session, date_from, date_to)
    title = f"便民服务测评 {date_from.isoformat()} - {date_to.isoformat()}"
    content = export.render(rows, fmt, title)
    return {"filename": f"tickets-measures-{date_from.isoformat()}-{date_to.isoformat()}.{fmt}",
            "format": fmt, "rows": len(rows),
            "content_base64": base64.b64encode(content).decode("ascii")}
