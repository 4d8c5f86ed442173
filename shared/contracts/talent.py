"""Events published by the talent service (its public language: see ``registry``)."""
from marshmallow import Schema, fields

from shared.contracts.registry import contract


@contract("talent", "entry_recorded")
class EntryRecorded(Schema):
    """An entry was recorded for an organisation unit."""
    example = {"id": 1, "unit_id": 12, "title": "an example"}
    id = fields.Integer(required=True)
    unit_id = fields.Integer(required=True)
    title = fields.String(required=True)
