"""Webhook subscriptions (functions of a session): create, list, read, disable, and which
events a subscription hears."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from services.notify import sealing, signing
from services.notify.models import Subscription
from services.notify.moments import iso
from shared.errors import Conflict, NotFound

ALL = "*"


def create(session, data: dict, now, created_by: str | None, max_active: int,
           key: bytes | None = None) -> dict:
    """Store a subscription, its secret sealed with ``key`` (``sealing``); the answer is the
    only one that ever shows its ``secret``."""
    active = session.scalar(select(func.count()).select_from(Subscription)
                            .where(Subscription.active.is_(True)))
    if active >= max_active:
        raise Conflict(f"{active} active webhook subscriptions already: at most {max_active} "
                       "(disable one first)")
    subscription = Subscription(url=data["url"], event_types=json.dumps(data["event_types"]),
                                township_id=data.get("township_id"),
                                description=data.get("description"),
                                secret="", active=True, created_by=created_by,
                                created_at=now)
    secret = signing.new_secret()
    subscription.secret = sealing.seal(key, secret)
    session.add(subscription)
    session.flush()
    return {**subscription_dict(subscription), "secret": secret}


def get(session, subscription_id: int) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"webhook subscription {subscription_id} does not exist")
    return subscription


def listing(session, offset: int, limit: int, include_disabled: bool) -> list[dict]:
    query = select(Subscription).order_by(Subscription.id).offset(offset).limit(limit)
    if not include_disabled:
        query = query.where(Subscription.active.is_(True))
    return [subscription_dict(s) for s in session.scalars(query)]


def disable(session, subscription_id: int, now) -> dict:
    """Stop a subscription: nothing more is recorded for it and its pending deliveries are
    cancelled when their turn comes. Disabling a disabled one changes nothing."""
    subscription = get(session, subscription_id)
    if subscription.active:
        subscription.active = False
        subscription.disabled_at = now
    return subscription_dict(subscription)


def types_of(subscription) -> list[str]:
    return json.loads(subscription.event_types)


def matches(subscription, source: str, event_type: str, payload: dict) -> bool:
    """Whether ``subscription`` hears this event: its types name it (or ``*``) and, when it
    is limited to a township, the payload's ``township_id`` is that one."""
    wanted = types_of(subscription)
    if ALL not in wanted and f"{source}.{event_type}" not in wanted:
        return False
    return subscription.township_id is None or payload.get("township_id") == subscription.township_id


def subscription_dict(subscription) -> dict:
    return {"id": subscription.id, "url": subscription.url,
            "event_types": types_of(subscription), "township_id": subscription.township_id,
            "description": subscription.description, "active": subscription.active,
            "created_by": subscription.created_by, "created_at": iso(subscription.created_at),
            "disabled_at": iso(subscription.disabled_at)}
