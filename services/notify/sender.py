"""One round of the sender (what the service's ``@timer`` runs): claim the due deliveries,
send them with bounded concurrency outside any transaction, record the outcomes.

``run_once`` takes everything it touches as arguments (the store handle, the settings, the
channel adapter, the lookup function, the clock, the HTTP ``post``), so tests drive it on a
real database without a broker, with a clock they move."""
from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

import eventlet
import requests

from services.notify import channels, deliveries, recipients, sealing, signing
from services.notify.deliveries import Result
from shared.errors import NotFound
from shared.logs import Repeating, Throttle, cut, describe

log = logging.getLogger(__name__)
_throttle = Throttle(burst=3, window=60.0)


def run_once(store, settings, channel, lookup, clock, post=requests.post,
             rand=random.random) -> dict:
    """Send what is due now; returns the counts of ``deliveries.record`` (empty: nothing due)."""
    with store.transaction() as session:
        claimed = deliveries.claim_due(session, clock(), settings.sender.batch_size,
                                       settings.sender.lease_seconds)
    if not claimed:
        return {}
    pool = eventlet.GreenPool(settings.sender.concurrency)
    results = list(pool.imap(
        lambda item: send_one(item, settings, channel, lookup, clock, post), claimed))
    with store.transaction() as session:
        counts = deliveries.record(session, results, settings.retry, clock(), rand)
    log.info("notify: sent %s of %s due deliveries (%s retrying, %s failed for good, "
             "%s skipped, %s cancelled)", counts["delivered"], len(claimed), counts["retrying"],
             counts["failed"], counts["skipped"], counts["cancelled"])
    return counts


def send_one(item: deliveries.Claimed, settings, channel, lookup, clock, post) -> Result:
    """Send one claimed delivery; never raises (a failure is a ``Result``)."""
    at = clock()
    started = time.monotonic()
    recipient = None
    try:
        if item.kind == "webhook":
            if not item.subscription_active:
                return Result(item.id, cancelled=True, at=at)
            status = post_webhook(item, settings.webhooks, post)
        else:
            recipient = item.recipient
            if recipient is None:
                recipient, nobody = look_up(item.lookup, lookup)
                if nobody:
                    return Result(item.id, skipped=nobody, at=at)
            status = channel.send(channels.Message(item.id, recipient, item.body, item.template,
                                                   item.event_id, item.qualified_type))
        return Result(item.id, ok=True, status_code=status, recipient=recipient,
                      duration_ms=_ms(started), at=at)
    except channels.SendFailed as failed:
        _warn(item, str(failed))
        return Result(item.id, error=str(failed), status_code=failed.status_code,
                      recipient=recipient, duration_ms=_ms(started), at=at)
    except Exception as exc:  # a lookup or adapter fault: one failed attempt, retried
        _warn(item, describe(exc))
        return Result(item.id, error=describe(exc), recipient=recipient,
                      duration_ms=_ms(started), at=at)


def post_webhook(item: deliveries.Claimed, webhooks, post) -> int:
    """Sign with the subscription's secret (unsealed here, in memory only) and post.
    A secret this deployment's key cannot open is a failed attempt, logged like any other."""
    body = item.body.encode("utf-8")
    secret = sealing.unseal(webhooks.secret_key, item.secret)
    headers = signing.headers(secret, int(time.time()), body, item.event_id,
                              item.qualified_type, item.id)
    return channels.post_json(post, item.url, body, headers, webhooks.timeout_seconds)


def look_up(spec: dict | None, lookup) -> tuple[str | None, str | None]:
    """``(phone, None)``, or ``(None, reason)`` when the owning service knows no phone.
    Raises when the service cannot be asked (a failed attempt: retried)."""
    if not spec:
        return None, "no recipient"
    where = f"{spec['service']}.{spec['method']}({spec['value']})"
    try:
        answer = lookup(spec["service"], spec["method"], spec["value"])
    except NotFound:
        return None, f"no recipient: {where} found nothing"
    phone = recipients.phone_in(answer, spec["phone_field"])
    if phone is None:
        return None, f"no recipient: {where} has no {spec['phone_field']}"
    return phone, None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _warn(item, error):
    target = item.url if item.kind == "webhook" else item.channel
    quiet = _throttle.admit(target)
    if quiet is not None:
        log.warning("notify: %s delivery %s to %s failed (attempt %s): %s%s", item.kind,
                    item.id, cut(target, 120), item.attempts + 1, cut(error, 200),
                    f" ({quiet} more failures kept quiet)" if quiet else "")


_round = Repeating(log, "notify sender round")
_pruned = {"at": None}
PRUNE_EVERY = timedelta(hours=1)


def run_safely(store, settings, channel, lookup, clock) -> dict:
    """``run_once`` for the timer, and once an hour ``prune_settled``: a database outage is one
    WARNING when it starts and one "recovered" line when it ends, not a traceback per tick (the
    deliveries wait, unharmed)."""
    try:
        counts = run_once(store, settings, channel, lookup, clock)
        now = clock()
        if _pruned["at"] is None or now - _pruned["at"] >= PRUNE_EVERY:
            _pruned["at"] = now
            prune_settled(store, settings, now)
    except Exception as exc:
        _round.failed(exc, "the deliveries wait for the next round")
        return {}
    _round.succeeded()
    return counts


def prune_settled(store, settings, now) -> int:
    """Forget settled deliveries older than ``sender.keep_days`` (1,000 per transaction)."""
    before, total = now - timedelta(days=settings.sender.keep_days), 0
    while True:
        with store.transaction() as session:
            removed = deliveries.prune(session, before)
        total += removed
        if removed < 1000:
            break
    if total:
        log.info("notify: forgot %s settled deliveries older than %s days", total,
                 settings.sender.keep_days)
    return total
