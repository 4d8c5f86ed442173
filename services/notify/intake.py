"""What the event handler does with a batch of events (functions of a session, no nameko):
learn unit names, record a message delivery per template recipient and a webhook delivery per
matching subscription. Nothing is sent here: the handler's transaction only records pending
deliveries, so a slow or absent receiver never holds up consumption."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from services.notify import recipients, templates
from services.notify.models import Delivery, Subscription, Unit
from services.notify.subscriptions import matches
from shared.contracts import registry

log = logging.getLogger(__name__)
UNIT_EVENTS = {("members", "org_unit_created"), ("members", "org_unit_changed")}


def record(session, settings, events, now: datetime) -> dict:
    """Handle ``events`` (fresh envelopes, payloads loaded); returns counts for the log."""
    counts = {"messages": 0, "skipped": 0, "webhooks": 0}
    for event in events:
        if (event.source, event.type) in UNIT_EVENTS:
            learn_unit(session, event.data)
    subscriptions = session.scalars(select(Subscription).where(Subscription.active.is_(True))
                                    .order_by(Subscription.id)).all()
    rows = []
    for event in events:
        wanted = settings.templates_for(event.source, event.type)
        if wanted:
            names = unit_names(session, event.data)
            for template in wanted:
                rows.extend(message_rows(settings, template, event, names, now))
        hearing = [s for s in subscriptions if matches(s, event.source, event.type, event.data)]
        if hearing:
            body = envelope_json(event)
            rows.extend(webhook_row(event, subscription, body, now) for subscription in hearing)
    for row in rows:
        counts["webhooks" if row.kind == "webhook" else
               "skipped" if row.status == "skipped" else "messages"] += 1
    session.add_all(rows)
    return counts


def learn_unit(session, data):
    session.merge(Unit(id=data["org_unit_id"], name=data["name"], kind=data["kind"],
                       township_id=data.get("township_id")))


def unit_names(session, payload) -> dict:
    ids = [payload[f] for f in templates.UNIT_NAMES.values() if payload.get(f) is not None]
    if not ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def _place(event) -> dict:
    data = event.data
    return dict(event_id=event.id, event_source=event.source, event_type=event.type,
                township_id=_whole(data.get("township_id")), branch_id=_whole(data.get("branch_id")))


def _whole(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def message_rows(settings, template, event, unit_names_, now) -> list[Delivery]:
    text = templates.render(template.text,
                            templates.values(event.data, settings.labels, unit_names_),
                            settings.date_format, settings.missing)
    common = dict(_place(event), kind="message", template=template.name,
                  channel=settings.channel, body=text, attempts=0, replays=0, created_at=now)
    if _stale(event, settings, now):
        log.debug("notify: %s for event %s not sent: the event is older than %s h",
                 template.name, event.id, settings.max_age_hours)
        return [Delivery(**common, status="skipped", last_error="stale: the event is older "
                         f"than {settings.max_age_hours} h")]
    chosen = recipients.choose(template.recipients, event.data, settings.contacts)
    if isinstance(chosen, recipients.Lookup):
        return [Delivery(**common, status="pending", next_attempt_at=now,
                         lookup=json.dumps(chosen.as_dict(), ensure_ascii=False, default=str))]
    if not chosen:
        log.debug("notify: %s for event %s (%s.%s) has no recipient; skipped", template.name,
                 event.id, event.source, event.type)
        return [Delivery(**common, status="skipped", last_error="no recipient")]
    return [Delivery(**common, status="pending", next_attempt_at=now, recipient=person.phone,
                     recipient_name=str(person.name)[:100] if person.name else None)
            for person in chosen]


def _stale(event, settings, now) -> bool:
    try:
        occurred = datetime.fromisoformat(event.occurred_at)
    except (TypeError, ValueError):
        return False
    if occurred.tzinfo is None:
        return False
    return now - occurred > timedelta(hours=settings.max_age_hours)


def envelope_json(event) -> str:
    """The envelope as the webhook body: plain JSON, the payload dumped by its contract."""
    wire = event.to_wire()
    wire["data"] = registry.get(event.source, event.type).instance.dump(event.data)
    return json.dumps(wire, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def webhook_row(event, subscription, body, now) -> Delivery:
    return Delivery(**_place(event), kind="webhook", subscription_id=subscription.id,
                    channel="webhook", body=body, status="pending", attempts=0, replays=0,
                    next_attempt_at=now, created_at=now)


def bindings(config) -> list[tuple[str, str]]:
    """Every ``(source, type)`` an installed service publishes under a registered contract:
    notify hears everything (webhooks may ask for any of it)."""
    from shared import plugins
    installed = plugins.services()
    return [(c.source, c.type) for c in registry.all_contracts()
            if c.source in installed and c.type in plugins.publishes_of(installed[c.source])]
