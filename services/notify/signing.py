"""Webhook signatures (pure): how notify signs a delivery and how a receiver verifies it.

A delivery is a POST whose body is the event envelope as JSON (UTF-8) with these headers:

* ``X-Jiceng-Timestamp``: Unix time in whole seconds when this attempt was signed;
* ``X-Jiceng-Signature``: ``sha256=`` + hex HMAC-SHA256, keyed with the subscription's secret,
  over the bytes ``<timestamp>.<body>`` (the timestamp header's text, a dot, the raw body);
* ``X-Jiceng-Event-Id``: the envelope's ``id`` (the same on every retry and replay: dedupe on it);
* ``X-Jiceng-Event-Type``: ``<source>.<type>``, e.g. ``tickets.ticket_resolved``;
* ``X-Jiceng-Delivery-Id``: notify's delivery number (the delivery log's id).

A receiver recomputes the HMAC over the raw body it received (before any JSON parsing), compares
in constant time, and refuses a timestamp more than a few minutes away from its own clock, so a
captured request cannot be replayed later: ``verify`` below is that check.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP = "X-Jiceng-Timestamp"
SIGNATURE = "X-Jiceng-Signature"
EVENT_ID = "X-Jiceng-Event-Id"
EVENT_TYPE = "X-Jiceng-Event-Type"
DELIVERY_ID = "X-Jiceng-Delivery-Id"
PREFIX = "sha256="
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The request is not a genuine, fresh delivery; ``str(exc)`` says why."""


def new_secret() -> str:
    """A subscription's secret: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def headers(secret: str, timestamp: int, body: bytes, event_id: str, event_type: str,
            delivery_id: int) -> dict:
    """Every header of one delivery attempt."""
    return {"Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Jiceng-Webhooks/1",
            TIMESTAMP: str(timestamp), SIGNATURE: signature(secret, timestamp, body),
            EVENT_ID: event_id, EVENT_TYPE: event_type, DELIVERY_ID: str(delivery_id)}


def verify(secret: str, body: bytes, timestamp: str | None, signed: str | None, now: float,
           tolerance: float = TOLERANCE_SECONDS) -> None:
    """Raise ``BadSignature`` unless ``signed`` is the signature of ``body`` at ``timestamp``
    (the two headers' values) and ``timestamp`` is within ``tolerance`` seconds of ``now``."""
    if not timestamp or not signed:
        raise BadSignature("missing timestamp or signature header")
    try:
        moment = int(timestamp)
    except ValueError:
        raise BadSignature("the timestamp is not a whole number of seconds") from None
    if abs(now - moment) > tolerance:
        raise BadSignature(f"the timestamp is {now - moment:.0f} s away from now")
    if not hmac.compare_digest(signature(secret, timestamp, body), signed):
        raise BadSignature("the signature does not match the body")
