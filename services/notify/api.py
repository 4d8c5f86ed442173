"""The notify service over HTTP (``shared.api``): the webhook routes the gateway publishes
under /api/v1. Every route needs ``webhooks.write`` (county administrators): a subscription's
URL and its delivery log are an integration's configuration, not something to read widely."""
from marshmallow import fields, validate

from shared.api import Route
from shared.validation import body_schema

PERMISSION = "webhooks.write"

WebhookBody = body_schema(
    "WebhookBody",
    url=fields.String(required=True, validate=validate.Length(1, 500)),
    event_types=fields.List(fields.String(validate=validate.Length(1, 200)), required=True,
                            validate=validate.Length(1, 100)),
    township_id=fields.Integer(strict=True, allow_none=True,
                               validate=validate.Range(1, 2**63 - 1)),
    description=fields.String(allow_none=True, validate=validate.Length(0, 200)))

ROUTES = (
    Route("POST", "/webhooks", "create_webhook",
          "Subscribe a URL to event types; the answer shows the signing secret, once",
          body=WebhookBody, permission=PERMISSION, unit="body:township_id", status=201,
          tags=("webhooks",)),
    Route("GET", "/webhooks", "list_webhooks", "Webhook subscriptions",
          query={"include_disabled": fields.Boolean()}, paged=True, permission=PERMISSION,
          tags=("webhooks",)),
    Route("GET", "/webhooks/<int:subscription_id>", "get_webhook", "One webhook subscription",
          permission=PERMISSION, tags=("webhooks",)),
    Route("POST", "/webhooks/<int:subscription_id>/disable", "disable_webhook",
          "Stop a subscription (its pending deliveries are cancelled)", permission=PERMISSION,
          tags=("webhooks",)),
    Route("GET", "/webhooks/<int:subscription_id>/deliveries", "webhook_deliveries",
          "A subscription's delivery log, newest first: status, attempts, codes, errors",
          query={"status": fields.String(validate=validate.OneOf(
              ("pending", "delivered", "failed", "cancelled")))},
          paged=True, permission=PERMISSION, tags=("webhooks",)),
    Route("POST", "/webhooks/deliveries/<int:delivery_id>/replay", "replay_webhook_delivery",
          "Send a failed delivery again", permission=PERMISSION, tags=("webhooks",)),
)
