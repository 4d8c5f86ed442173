"""The deliveries outbox (functions of a session): claim what is due, record how sending went,
show the logs, replay a failed one.

Claiming pushes each claimed row's ``next_attempt_at`` a lease ahead in the claim's own short
transaction (rows locked with ``SKIP LOCKED`` on PostgreSQL, so processes never claim the same
row); the sending happens outside any transaction; the outcome is recorded in a second short
transaction. A process that dies mid-send leaves its rows pending: they are due again when the
lease ends (sent at least once; receivers dedupe on the event id)."""
from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from services.notify import backoff, recipients
from services.notify.models import Attempt, Delivery, Subscription
from services.notify.moments import iso
from services.notify.subscriptions import get as get_subscription
from shared.errors import Conflict, NotFound

log = logging.getLogger(__name__)
ERROR_LIMIT = 300
SHOWN_ERROR = 200


@dataclass(frozen=True)
class Claimed:
    """What the sender needs to send one delivery, read in the claim's transaction."""
    id: int
    kind: str
    channel: str
    recipient: str | None
    lookup: dict | None
    body: str
    event_id: str
    event_source: str
    event_type: str
    template: str | None
    attempts: int
    url: str | None = None
    secret: str | None = None
    subscription_active: bool = True

    @property
    def qualified_type(self) -> str:
        return f"{self.event_source}.{self.event_type}"


@dataclass(frozen=True)
class Result:
    """How one send went. ``ok``: delivered; ``skipped``: nobody to send to (the reason);
    ``cancelled``: the subscription was disabled; otherwise a failed attempt (``error``)."""
    delivery_id: int
    ok: bool = False
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    recipient: str | None = None
    skipped: str | None = None
    cancelled: bool = False
    at: datetime | None = field(default=None, compare=False)


def claim_due(session, now: datetime, limit: int, lease_seconds: float) -> list[Claimed]:
    rows = session.scalars(
        select(Delivery).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    if not rows:
        return []
    leased = now + timedelta(seconds=lease_seconds)
    wanted = {row.subscription_id for row in rows if row.subscription_id is not None}
    subscriptions = {s.id: s for s in session.scalars(
        select(Subscription).where(Subscription.id.in_(wanted)))} if wanted else {}
    claimed = []
    for row in rows:
        row.next_attempt_at = leased
        subscription = subscriptions.get(row.subscription_id)
        claimed.append(Claimed(
            id=row.id, kind=row.kind, channel=row.channel, recipient=row.recipient,
            lookup=json.loads(row.lookup) if row.lookup else None, body=row.body,
            event_id=row.event_id, event_source=row.event_source, event_type=row.event_type,
            template=row.template, attempts=row.attempts,
            url=subscription.url if subscription else None,
            secret=subscription.secret if subscription else None,
            subscription_active=bool(subscription and subscription.active)))
    return claimed


def record(session, results: list[Result], policy: backoff.Policy, now: datetime,
           rand=random.random) -> dict:
    """Apply ``results`` to their rows (only rows still pending: nothing else claims them)."""
    counts = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0, "cancelled": 0}
    by_id = {r.delivery_id: r for r in results}
    rows = session.scalars(select(Delivery).where(Delivery.id.in_(list(by_id)))
                           .with_for_update()).all() if by_id else []
    for row in rows:
        result = by_id[row.id]
        if row.status != "pending":
            continue
        if result.cancelled:
            row.status, row.next_attempt_at = "cancelled", None
            row.last_error = "the subscription was disabled"
            counts["cancelled"] += 1
            continue
        if result.recipient and not row.recipient:
            row.recipient = result.recipient
        if result.skipped:
            row.status, row.next_attempt_at, row.last_error = "skipped", None, result.skipped
            log.info("notify: delivery %s (%s) skipped: %s", row.id, row.template, result.skipped)
            counts["skipped"] += 1
            continue
        row.attempts += 1
        row.last_status_code = result.status_code
        if row.kind == "webhook":
            session.add(Attempt(delivery_id=row.id, at=result.at or now, ok=result.ok,
                                status_code=result.status_code,
                                error=_cut(result.error), duration_ms=result.duration_ms))
        if result.ok:
            row.status, row.delivered_at, row.next_attempt_at = "delivered", now, None
            counts["delivered"] += 1
            continue
        row.last_error = _cut(result.error) or "failed"
        retry_at = backoff.next_attempt(row.attempts, policy, now, rand)
        if retry_at is not None:
            row.next_attempt_at = retry_at
            counts["retrying"] += 1
            continue
        row.status, row.next_attempt_at = "failed", None
        counts["failed"] += 1
        log.warning("notify: delivery %s (%s %s) failed %s times; given up (replay_%s %s): %s",
                    row.id, row.kind, row.template or row.subscription_id, row.attempts,
                    "message" if row.kind == "message" else "webhook_delivery", row.id,
                    row.last_error)
        if row.kind == "message":
            session.publish("message_failed", failed_payload(row, now))
    return counts


def prune(session, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` deliveries settled (delivered, failed, skipped, cancelled) and
    created before ``before``, with their attempt logs; returns how many."""
    ids = session.scalars(select(Delivery.id).where(
        Delivery.status != "pending", Delivery.created_at < before)
        .order_by(Delivery.id).limit(limit)).all()
    if ids:
        session.execute(delete(Attempt).where(Attempt.delivery_id.in_(ids)))
        session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
    return len(ids)


def failed_payload(row, now) -> dict:
    return {"delivery_id": row.id, "template": row.template, "channel": row.channel,
            "event_id": row.event_id, "event_source": row.event_source,
            "event_type": row.event_type, "township_id": row.township_id,
            "branch_id": row.branch_id, "attempts": row.attempts,
            "last_error": (row.last_error or "")[:SHOWN_ERROR],
            "occurred_on": now.date().isoformat()}


def _cut(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= ERROR_LIMIT else text[:ERROR_LIMIT - 1] + "…"


def _shown(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= SHOWN_ERROR else text[:SHOWN_ERROR - 1] + "…"


def _delivery(session, delivery_id: int, kind: str) -> Delivery:
    row = session.get(Delivery, delivery_id)
    if row is None or row.kind != kind:
        what = "webhook delivery" if kind == "webhook" else "message"
        raise NotFound(f"{what} {delivery_id} does not exist")
    return row


def replay(session, delivery_id: int, kind: str, now: datetime) -> dict:
    """Send a failed delivery again: pending now, its attempt count back to zero (the log
    keeps the earlier attempts)."""
    row = _delivery(session, delivery_id, kind)
    if row.status != "failed":
        raise Conflict(f"delivery {delivery_id} is {row.status}: only a failed delivery is "
                       "replayed")
    if kind == "webhook":
        subscription = session.get(Subscription, row.subscription_id)
        if subscription is None or not subscription.active:
            raise Conflict(f"delivery {delivery_id}: its subscription {row.subscription_id} "
                           "is disabled")
    row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    row.replays += 1
    return webhook_dict(row, []) if kind == "webhook" else message_dict(row)


def webhook_log(session, subscription_id: int, offset: int, limit: int,
                status: str | None) -> list[dict]:
    """A subscription's deliveries, newest first, each with its attempts (oldest first)."""
    get_subscription(session, subscription_id)
    query = (select(Delivery).where(Delivery.subscription_id == subscription_id)
             .order_by(Delivery.id.desc()).offset(offset).limit(limit))
    if status is not None:
        query = query.where(Delivery.status == status)
    rows = session.scalars(query).all()
    attempts: dict[int, list] = {}
    if rows:
        for attempt in session.scalars(select(Attempt).where(
                Attempt.delivery_id.in_([r.id for r in rows])).order_by(Attempt.id)):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    return [webhook_dict(row, attempts.get(row.id, [])) for row in rows]


def webhook_delivery(session, delivery_id: int) -> dict:
    row = _delivery(session, delivery_id, "webhook")
    found = session.scalars(select(Attempt).where(Attempt.delivery_id == row.id)
                            .order_by(Attempt.id)).all()
    return webhook_dict(row, found)


def messages(session, offset: int, limit: int, status: str | None,
             template: str | None) -> list[dict]:
    query = (select(Delivery).where(Delivery.kind == "message").order_by(Delivery.id.desc())
             .offset(offset).limit(limit))
    if status is not None:
        query = query.where(Delivery.status == status)
    if template is not None:
        query = query.where(Delivery.template == template)
    return [message_dict(row) for row in session.scalars(query)]


def _common(row) -> dict:
    return {"id": row.id, "event_id": row.event_id,
            "event_type": f"{row.event_source}.{row.event_type}", "status": row.status,
            "attempts": row.attempts, "replays": row.replays,
            "created_at": iso(row.created_at), "delivered_at": iso(row.delivered_at),
            "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
            "last_status_code": row.last_status_code, "last_error": _shown(row.last_error)}


def webhook_dict(row, attempts) -> dict:
    return {**_common(row), "subscription_id": row.subscription_id,
            "log": [{"at": iso(a.at), "ok": a.ok, "status_code": a.status_code,
                     "error": _shown(a.error), "duration_ms": a.duration_ms} for a in attempts]}


def message_dict(row) -> dict:
    return {**_common(row), "template": row.template, "channel": row.channel,
            "to": recipients.mask(row.recipient), "text": row.body}
