"""The one envelope every event travels in.

Wire form (JSON object, the AMQP message body)::

    {"id": "<uuid4>", "type": "activity_recorded", "version": 1, "source": "members",
     "occurred_at": "2026-11-26T12:00:00.123456+00:00", "correlation_id": "<uuid4>",
     "causation_id": "<id of the event that caused this one, or null>", "data": {...}}

``correlation_id`` follows a whole chain of events (an activity, the score it changed, the
ranking that moved); ``causation_id`` names the direct parent. Both are set for you by the
outbox when an event is published while handling another one.
"""
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

from shared.errors import InvalidInput

REQUIRED = ("id", "type", "version", "source", "occurred_at", "data")


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    data: dict
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    correlation_id: str | None = None
    causation_id: str | None = None

    def __post_init__(self):
        if self.correlation_id is None:
            object.__setattr__(self, "correlation_id", self.id)

    def to_wire(self) -> dict:
        """The envelope as a plain dict (``data`` is shared, not copied: it is already plain)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_wire(cls, body) -> "Envelope":
        if not isinstance(body, dict):
            raise InvalidInput({"_schema": ["event body must be a JSON object"]})
        missing = [name for name in REQUIRED if name not in body]
        if missing:
            raise InvalidInput({name: ["missing from the envelope"] for name in missing})
        wrong = {name: [reason] for name, reason in _wrong_fields(body).items()}
        if wrong:
            raise InvalidInput(wrong)
        known = {name: body.get(name) for name in
                 ("id", "type", "version", "source", "occurred_at", "data", "correlation_id",
                  "causation_id")}
        return cls(**known)


def _wrong_fields(body) -> dict[str, str]:
    """What is wrong with the field types of a wire envelope (every field present)."""
    wrong = {}
    for name in ("type", "source", "occurred_at"):
        if not isinstance(body[name], str) or not body[name]:
            wrong[name] = "must be a non-empty string"
    if not isinstance(body["id"], str) or not 0 < len(body["id"]) <= 36:
        wrong["id"] = "must be a string of 1 to 36 characters"
    if isinstance(body["version"], bool) or not isinstance(body["version"], int):
        wrong["version"] = "must be a whole number"
    if not isinstance(body["data"], dict):
        wrong["data"] = "must be a JSON object"
    for name in ("correlation_id", "causation_id"):
        if body.get(name) is not None and not isinstance(body[name], str):
            wrong[name] = "must be a string or null"
    return wrong


PARTITION_HEADER = "x-partition-key"


def partition_key(event) -> str:
    """The key that picks an event's partition: events are partitioned by the township they concern.

    ``str(data["township_id"])`` when the payload names a township; else the unit it concerns
    (``branch:<branch_id>``, or ``branch:<org_unit_id>`` for an org-unit event), so that every
    event about a unit outside any township (a city-level branch and its members) still meets
    the others in one partition; else the event id (events about no place spread evenly). Takes
    an ``Envelope`` or its wire dict. The outbox relay puts it in the ``x-partition-key`` header of
    every event it publishes; the consistent-hash exchange of a partitioned ``@subscribe_batch``
    hashes that header, so every event about one township reaches the same partition queue, and
    so one consumer, in publishing order."""
    if isinstance(event, Envelope):
        data, event_id = event.data, event.id
    else:
        data, event_id = event.get("data"), event.get("id")
    data = data if isinstance(data, dict) else {}
    if data.get("township_id") is not None:
        return str(data["township_id"])
    unit = data.get("branch_id") if data.get("branch_id") is not None else data.get("org_unit_id")
    return f"branch:{unit}" if unit is not None else str(event_id)
