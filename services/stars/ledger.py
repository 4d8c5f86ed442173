"""Ledger writes and reads (database side of ``scoring``).

Every scored event is kept in ``scored_events`` (payload in wire form) and earns one ledger row
per matching rule, with the RAW points and the rulebook version. ``item_months`` is updated in the
same transaction (raw sum and net count per subject, item and month) so that summaries read it
instead of the ledger; ``scoring.summarise`` applies the monthly caps to it exactly as to the
ledger rows themselves (caps act on monthly raw sums).

Revocation: the *live* rows of the revoked event (not compensations, not yet compensated) get one
compensating row each (``scoring.compensate``: same subject, item, rule and date, points and count
negated) naming the original in ``compensates_id``. A revocation that arrives before its event is
remembered in ``revocations``; the event then earns nothing when it comes.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal

import eventlet
from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import aliased

from services.stars import periods, scoring
from services.stars.directory import dialect_insert, per_kind
from services.stars.models import ItemMonth, LedgerEntry, Revocation, ScoredEvent
from shared.contracts import registry
from shared.errors import InvalidInput

ledger = LedgerEntry.__table__
item_months = ItemMonth.__table__
scored_events = ScoredEvent.__table__
revocations = Revocation.__table__

SCORED, REVOKED, ARCHIVED = "scored", "revoked", "archived"
EARLY = "revoked_early"  # a revocation came first: the row waits for its event


def now():
    return datetime.now(timezone.utc)


def wire_payload(source, type_, data) -> dict:
    """The payload as JSON-safe data (as published), for storage."""
    try:
        return registry.get(source, type_).instance.dump(data)
    except LookupError:
        return {k: (v.isoformat() if isinstance(v, (date, datetime)) else
                    str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}


def loaded_payload(source, type_, payload) -> dict:
    """A stored payload as the handler saw it (typed by its contract when one is registered)."""
    try:
        return registry.get(source, type_).load(payload)
    except LookupError:
        return dict(payload)


def remember_events(session, rows) -> set[str]:
    """Keep events (``scored_events`` rows: event_id, source, type, occurred_on, occurred_at,
    payload, status); returns the ids that were new (an id kept before is left as it was)."""
    if not rows:
        return set()
    received = now()
    statement = dialect_insert(session, scored_events).on_conflict_do_nothing() \
        .returning(scored_events.c.event_id)
    return set(session.scalars(statement, [{**row, "received_at": received} for row in rows]))


def event_row(event, day, status) -> dict:
    return {"event_id": event.id, "source": event.source, "type": event.type, "occurred_on": day,
            "occurred_at": event.occurred_at, "status": status,
            "payload": wire_payload(event.source, event.type, event.data)}


def entries_for(rulebook, source, type_, payload, day) -> list[dict]:
    """``scoring.score_event`` with subject ids checked to be whole numbers (InvalidInput else)."""
    try:
        entries = scoring.score_event(rulebook, source, type_, payload, day)
    except ValueError as exc:
        raise InvalidInput({"data": [str(exc)]}) from None
    for entry in entries:
        raw = entry["subject_id"]
        try:
            subject_id = int(raw)
            if isinstance(raw, bool) or subject_id <= 0 or (isinstance(raw, str) and not raw.strip().isdigit()):
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidInput({f"data.{entry['rule_id']}": [
                f"subject id {raw!r} of rule {entry['rule_id']} is not a positive whole number"]}) from None
        entry["subject_id"] = subject_id
    return entries


def append(session, entries, *, recorded_at, event_id=None, source=None, type_=None, run_id=None):
    """Insert ledger rows and add them to ``item_months``, in two statements. Each entry names
    the event behind it (``source_event_id``, ``source``, ``type``) unless the call gives them
    for all; ``compensates_id`` is taken from the entry when present."""
    if not entries:
        return
    session.execute(ledger.insert(), [{
        "subject_kind": e["subject_kind"], "subject_id": e["subject_id"], "item": e["item"],
        "points": Decimal(e["points"]), "count": int(e.get("count", 1)),
        "source_event_id": event_id or e["source_event_id"], "source": source or e["source"],
        "event_type": type_ or e["type"],
        "rule_id": e["rule_id"], "rule_version": e["rule_version"],
        "occurred_on": periods.as_date(e["occurred_on"]), "recorded_at": recorded_at,
        "compensates_id": e.get("compensates_id"), "run_id": run_id} for e in entries])
    add_to_months(session, entries)


def add_to_months(session, entries):
    """Add entries' raw points and counts to their subjects' ``item_months`` rows."""
    if not entries:
        return
    totals: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for e in entries:
        key = (e["subject_kind"], e["subject_id"], periods.month_key(e["occurred_on"]), e["item"])
        totals[key][0] += Decimal(e["points"])
        totals[key][1] += int(e.get("count", 1))
    session.execute(_add_to_month(session), [
        {"subject_kind": kind, "subject_id": subject_id, "month": month, "item": item,
         "points": points, "count": count}
        for (kind, subject_id, month, item), (points, count) in sorted(totals.items())])


_ADD_TO_MONTH: dict = {}


def _add_to_month(session):
    """``INSERT ... ON CONFLICT DO UPDATE`` adding to a month's raw sum and count (built once)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _ADD_TO_MONTH:
        statement = dialect_insert(session, item_months)
        _ADD_TO_MONTH[dialect] = statement.on_conflict_do_update(
            index_elements=["subject_kind", "subject_id", "month", "item"],
            set_={"points": item_months.c.points + statement.excluded.points,
                  "count": item_months.c.count + statement.excluded.count})
    return _ADD_TO_MONTH[dialect]


def _row_entry(row) -> dict:
    return {"id": row.id, "subject_kind": row.subject_kind, "subject_id": row.subject_id,
            "item": row.item, "points": row.points, "count": row.count, "rule_id": row.rule_id,
            "rule_version": row.rule_version, "source": row.source, "type": row.event_type,
            "occurred_on": row.occurred_on, "source_event_id": row.source_event_id}


def live_rows(session, event_id) -> list[dict]:
    """Rows written for ``event_id`` that are neither compensations nor compensated."""
    later = aliased(ledger)
    rows = session.execute(select(ledger).where(
        ledger.c.source_event_id == event_id, ledger.c.compensates_id.is_(None),
        ~exists().where(later.c.compensates_id == ledger.c.id)).order_by(ledger.c.id))
    return [_row_entry(row) for row in rows]


def compensations_for(rows) -> list[dict]:
    """``scoring.compensate`` of ledger rows, each naming the row it cancels."""
    result = []
    for row, reverse in zip(rows, scoring.compensate(rows)):
        reverse["compensates_id"] = row["id"]
        result.append(reverse)
    return result


def record_revocations(session, revocation_events):
    """Remember revoked event ids (also when the revocation comes before the event)."""
    if not revocation_events:
        return
    received = now()
    session.execute(dialect_insert(session, revocations).on_conflict_do_nothing(), [
        {"revoked_event_id": e.data["revoked_event_id"], "revoking_event_id": e.id,
         "reason": e.data.get("reason"), "received_at": received} for e in revocation_events])


def revoked_among(session, event_ids) -> set[str]:
    """The ids among ``event_ids`` that a revocation named."""
    if not event_ids:
        return set()
    return set(session.scalars(select(revocations.c.revoked_event_id).where(
        revocations.c.revoked_event_id.in_(sorted(event_ids)))))


def stored_status(session, event_ids) -> dict[str, tuple]:
    """``event id -> (status, occurred_on)`` of kept events."""
    if not event_ids:
        return {}
    return {row.event_id: (row.status, row.occurred_on) for row in session.execute(
        select(scored_events.c.event_id, scored_events.c.status, scored_events.c.occurred_on)
        .where(scored_events.c.event_id.in_(sorted(event_ids))))}


def mark_revoked(session, event_ids) -> set[str]:
    """Mark scored events revoked; returns those this call changed (under the row locks, so two
    revocations of one event compensate it once)."""
    if not event_ids:
        return set()
    return set(session.scalars(update(scored_events).where(
        scored_events.c.event_id.in_(sorted(event_ids)), scored_events.c.status == SCORED)
        .values(status=REVOKED).returning(scored_events.c.event_id)))


def wait_for_events(session, revocation_events, day_of) -> set[str]:
    """Keep a placeholder row (``EARLY``) for each revoked event not kept yet; returns the ids it
    was placed for. The revocation and its event meet on this one row whichever comes first and
    whichever consumer handles each: the second insert waits for the first to commit."""
    rows = [{"event_id": e.data["revoked_event_id"], "source": "members",
             "type": "activity_recorded", "occurred_on": day_of(e), "occurred_at": "",
             "payload": {}, "status": EARLY} for e in revocation_events]
    return remember_events(session, rows)


def claim_early(session, events_rows) -> set[str]:
    """Events that arrive after their revocation: fill their placeholder rows (status
    ``revoked``); returns their ids."""
    found = set()
    for row in events_rows:
        changed = session.execute(update(scored_events).where(
            scored_events.c.event_id == row["event_id"], scored_events.c.status == EARLY).values(
            source=row["source"], type=row["type"], occurred_on=row["occurred_on"],
            occurred_at=row["occurred_at"], payload=row["payload"], status=REVOKED)).rowcount
        if changed:
            found.add(row["event_id"])
    return found


def live_rows_of(session, event_ids) -> list[dict]:
    """``live_rows`` of several events in one query, in ledger order."""
    if not event_ids:
        return []
    later = aliased(ledger)
    rows = session.execute(select(ledger).where(
        ledger.c.source_event_id.in_(sorted(event_ids)), ledger.c.compensates_id.is_(None),
        ~exists().where(later.c.compensates_id == ledger.c.id)).order_by(ledger.c.id))
    return [_row_entry(row) for row in rows]


_MONTH_ROWS = select(item_months).where(
    item_months.c.subject_kind == bindparam("kind"),
    item_months.c.subject_id.in_(bindparam("ids", expanding=True)),
    item_months.c.month.in_(bindparam("months", expanding=True)))


def month_rows(session, keys, months) -> list[dict]:
    """``item_months`` of the subjects ``keys`` for ``months``, as pseudo-entries for
    ``scoring.summarise`` (one per subject, item and month, dated the 1st of the month)."""
    if not keys or not months:
        return []
    return [as_entry(row) for row in per_kind(session, _MONTH_ROWS, keys, months=sorted(months))]


def all_month_rows(session, months) -> list[dict]:
    rows = []
    query = select(item_months).where(item_months.c.month.in_(sorted(months)))
    for number, row in enumerate(session.execute(query)):
        rows.append(as_entry(row))
        if number % 500 == 499:
            eventlet.sleep(0)
    return rows


def as_entry(row) -> dict:
    return {"subject_kind": row.subject_kind, "subject_id": row.subject_id, "item": row.item,
            "points": row.points, "count": row.count, "occurred_on": f"{row.month}-01"}


def entries_in(session, kind, subject_id, period_key, limit) -> tuple[list[dict], bool]:
    """Ledger rows of one subject in a period, oldest first, with the event that caused each."""
    start, end = periods.period_bounds(period_key)
    query = select(ledger).where(ledger.c.subject_kind == kind, ledger.c.subject_id == subject_id,
                                 ledger.c.occurred_on >= start, ledger.c.occurred_on <= end) \
        .order_by(ledger.c.occurred_on, ledger.c.id).limit(limit + 1)
    rows = session.execute(query).all()
    return [{"id": r.id, "item": r.item, "points": r.points, "count": r.count,
             "occurred_on": r.occurred_on, "recorded_at": r.recorded_at,
             "source": r.source, "event_type": r.event_type, "source_event_id": r.source_event_id,
             "rule_id": r.rule_id, "rule_version": r.rule_version,
             "compensates_id": r.compensates_id, "run_id": r.run_id} for r in rows[:limit]], \
        len(rows) > limit


def has_entries(session, kind, subject_id) -> bool:
    return session.scalar(select(func.count()).select_from(ledger).where(
        ledger.c.subject_kind == kind, ledger.c.subject_id == subject_id)) > 0


def events_in(session, period_key, status=SCORED):
    start, end = periods.period_bounds(period_key)
    return session.execute(select(scored_events).where(
        scored_events.c.occurred_on >= start, scored_events.c.occurred_on <= end,
        scored_events.c.status == status).order_by(scored_events.c.occurred_on,
                                                   scored_events.c.event_id)).all()


def _signature(entries):
    """What an event earned, regardless of the rulebook version that said so."""
    return sorted((e["subject_kind"], e["subject_id"], e["item"], e["rule_id"],
                   Decimal(e["points"]).normalize(), int(e.get("count", 1)),
                   periods.as_date(e["occurred_on"])) for e in entries)


def rescore_event(session, books_in_force, stored, run_id) -> tuple[list[dict], list[dict]]:
    """Re-apply the rulebook now in force to one kept event: when its entries differ from the live
    rows, compensate those and append the new ones. Returns (compensations, new entries)."""
    book = books_in_force(stored.occurred_on)
    payload = loaded_payload(stored.source, stored.type, stored.payload)
    fresh = entries_for(book, stored.source, stored.type, payload, stored.occurred_on) if book else []
    current = live_rows(session, stored.event_id)
    if _signature(fresh) == _signature(current):
        return [], []
    reverse = compensations_for(current)
    stamp = now()
    append(session, reverse, event_id=stored.event_id, source=stored.source, type_=stored.type,
           recorded_at=stamp, run_id=run_id)
    append(session, fresh, event_id=stored.event_id, source=stored.source, type_=stored.type,
           recorded_at=stamp, run_id=run_id)
    return reverse, fresh
