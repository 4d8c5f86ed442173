"""Bodies and query strings of the gateway's own operations."""
from marshmallow import Schema, fields, validate

from services.gateway.roles import ROLES

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,64}$",
                           error="3 to 64 letters, digits or _ . @ -")
UNIT_ID = dict(strict=True, validate=validate.Range(1, 2**63 - 1))


class LoginBody(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256))


class RefreshBody(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(1, 200))


class LogoutBody(Schema):
    refresh_token = fields.String(validate=validate.Length(1, 200))


class TokenBody(Schema):
    grant_type = fields.String(required=True, validate=validate.Equal(
        "client_credentials", error="only client_credentials is supported"))
    client_id = fields.String(validate=validate.Length(1, 64))
    client_secret = fields.String(validate=validate.Length(1, 200))
    scope = fields.String(validate=validate.Length(0, 2000))


class UserBody(Schema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = fields.String(required=True, validate=validate.Length(1, 100))
    password = fields.String(required=True, validate=validate.Length(1, 256))
    role = fields.String(required=True, validate=validate.OneOf(tuple(ROLES)))
    unit_id = fields.Integer(allow_none=True, load_default=None, **UNIT_ID)


class ClientBody(Schema):
    client_id = fields.String(required=True, validate=USERNAME)
    name = fields.String(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf(tuple(ROLES)))
    unit_id = fields.Integer(allow_none=True, load_default=None, **UNIT_ID)
    scopes = fields.List(fields.String(validate=validate.Length(1, 64)), required=True,
                         validate=validate.Length(1, 50))


AUDIT_FILTERS = {"actor": fields.String(validate=validate.Length(1, 64)),
                 "action": fields.String(validate=validate.Length(1, 100)),
                 "since": fields.String(validate=validate.Length(1, 40)),
                 "until": fields.String(validate=validate.Length(1, 40))}
_PAGING_SCHEMAS: dict = {}


def paging_schema(filters: dict):
    key = tuple(sorted(filters))
    if key not in _PAGING_SCHEMAS:
        from services.gateway.arguments import PAGING
        _PAGING_SCHEMAS[key] = Schema.from_dict({**filters, **PAGING})()
    return _PAGING_SCHEMAS[key]
