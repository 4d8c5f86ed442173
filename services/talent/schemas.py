"""Input schemas of the talent service's RPCs (marshmallow). ``load`` turns every refusal into
``InvalidInput`` naming the field."""
from marshmallow import Schema, fields, validate

from shared.validation import load, require_id  # noqa: F401  (the service calls them from here)


class EntryInput(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
