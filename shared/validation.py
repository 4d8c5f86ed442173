"""Turning RPC arguments into checked values, or ``InvalidInput`` naming the field.

Every service loads its RPC payloads through ``load`` (a marshmallow schema) and its id
arguments through ``require_id``, so a refusal always names the field and the reason."""
from marshmallow import ValidationError

from shared.errors import InvalidInput, flatten_messages

MAX_ID = 2**63 - 1


def load(schema_cls, data, partial=False) -> dict:
    """Validate ``data`` with ``schema_cls``; ``InvalidInput`` with flat, dotted field names."""
    if not isinstance(data, dict):
        raise InvalidInput({"_schema": ["must be an object (a JSON dictionary)"]})
    try:
        return schema_cls().load(data, partial=partial)
    except ValidationError as error:
        raise InvalidInput(flatten_messages(error.messages)) from None


def require_id(value, field: str) -> int:
    """A database id: a whole number from 1 to 2**63-1 (booleans and strings refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput({field: ["must be a whole number from 1 to 9223372036854775807"]})
    return value
