"""Turning RPC arguments into checked values, or ``InvalidInput`` naming the field.

Every service loads its RPC payloads through ``load`` (a marshmallow schema built from
``shared.inputs`` fields) and checks other arguments with the guards of ``shared.inputs``, so a
refusal always names the field and the reason."""
from marshmallow import Schema, ValidationError

from shared import inputs
from shared.errors import InvalidInput, flatten_messages


def load(schema_cls, data, partial=False, field="payload") -> dict:
    """Validate ``data`` (the RPC argument ``field``) with ``schema_cls``; ``InvalidInput`` with
    flat, dotted field names (``field`` itself when ``data`` is not a dict). Build the schema
    from ``shared.inputs`` fields."""
    if not isinstance(data, dict):
        raise InvalidInput({field: ["must be an object (a JSON dictionary)"]})
    try:
        return schema_cls().load(data, partial=partial)
    except ValidationError as error:
        raise InvalidInput(flatten_messages(error.messages)) from None


def require_id(value, field: str) -> int:
    """A database id: a whole number from 1 to 2**63-1 (``shared.inputs.positive_id``)."""
    return inputs.positive_id(value, field)


def body_schema(schema_name: str, /, **schema_fields):
    """A named marshmallow Schema class from fields (for small request bodies: the name shows
    in the OpenAPI document)."""
    return type(schema_name, (Schema,), dict(schema_fields))
