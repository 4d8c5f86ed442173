"""Input schemas and argument checks of the notify service's RPCs. ``load`` turns every refusal
into ``InvalidInput`` naming the field."""
import functools
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates

from shared import inputs
from shared.contracts import registry
from shared.validation import load  # noqa: F401  (the service calls it from here)

ALL_EVENTS = "*"
MAX_EVENT_TYPES = 100
MAX_LIMIT = 1000
DELIVERY_STATUSES = ("pending", "delivered", "failed", "skipped", "cancelled")


def event_types() -> set[str]:
    """Every ``source.type`` of the contract registry."""
    return {f"{c.source}.{c.type}" for c in registry.all_contracts()}


def url_problem(url: str, schemes) -> str | None:
    """Why ``url`` cannot receive webhooks (None: it can)."""
    if not url.isascii() or any(c.isspace() for c in url):
        return "must be an ASCII URL without spaces (write an international domain in punycode)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in schemes:
        return f"must start with {' or '.join(s + '://' for s in schemes)}"
    if not parts.hostname:
        return "must name a host"
    if parts.username or parts.password:
        return "must not carry a user name or password (the signature authenticates deliveries)"
    if parts.fragment:
        return "must not have a #fragment"
    return None


class WebhookInput(Schema):
    url = inputs.Text(required=True, min_length=1, max_length=500)
    event_types = fields.List(inputs.Text(max_length=200), required=True,
                              validate=validate.Length(min=1, max=MAX_EVENT_TYPES))
    township_id = inputs.Id(load_default=None, allow_none=True)
    description = inputs.Text(load_default=None, allow_none=True, max_length=200)

    allowed_schemes = ("http", "https")    # set from the settings by the service

    @validates("url")
    def _url(self, value, **kwargs):
        problem = url_problem(value, self.allowed_schemes)
        if problem:
            raise ValidationError(problem)

    @validates("event_types")
    def _event_types(self, value, **kwargs):
        known = event_types()
        unknown = [name for name in value if name != ALL_EVENTS and name not in known]
        if unknown:
            raise ValidationError(f"not a registered event type (source.type, or * for all): "
                                  f"{', '.join(unknown[:5])}")
        if len(set(value)) != len(value):
            raise ValidationError("lists an event type twice")


@functools.lru_cache(maxsize=8)
def webhook_input(schemes: tuple):
    """``WebhookInput`` allowing the deployment's URL schemes."""
    return type("WebhookInput", (WebhookInput,), {"allowed_schemes": tuple(schemes)})


def paging(offset, limit) -> tuple[int, int]:
    return (inputs.whole_number(offset, "offset", minimum=0, maximum=inputs.MAX_ID),
            inputs.whole_number(limit, "limit", minimum=1, maximum=MAX_LIMIT))


def status(value, field="status") -> str | None:
    return None if value is None else inputs.choice(value, field, DELIVERY_STATUSES)
