"""The notify service: turns events into messages for people (channel adapters: a file for
development, an SMS gateway over HTTP) and delivers events to integrating systems' webhooks,
signed, retried with backoff from an outbox of deliveries, with a delivery log and replay."""
import logging

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.notify import api as http_api
from services.notify import deliveries, intake, preview, schemas, sender, subscriptions
from services.notify import settings as settings_module
from services.notify.caller import Caller
from services.notify.channels import build as build_channel
from services.notify.clock import Clock
from services.notify.lookups import Lookups
from services.notify.models import Base
from shared import inputs
from shared.bus import Store, rpc_write, subscribe_batch
from shared.bus.refusals import rpc
from shared.service import ServiceBase


log = logging.getLogger(__name__)

class SendTimer(Timer):
    """nameko's ``@timer`` with its interval from ``notify.sender.interval_seconds``."""

    def setup(self):
        self.interval = settings_module.load(self.container.config).sender.interval_seconds


class Channel(DependencyProvider):
    """The deployment's channel adapter (``channels.build``), made once per container."""

    def setup(self):
        self.channel = build_channel(settings_module.load(self.container.config))

    def get_dependency(self, worker_ctx):
        return self.channel


class NotifyService(ServiceBase):
    name = "notify"
    api = http_api.ROUTES
    publishes = ("message_failed",)
    store = Store(Base.metadata)
    settings = settings_module.NotifySettings()
    channel = Channel()
    clock = Clock()
    caller = Caller()
    lookup = Lookups()

    @classmethod
    def rpc_examples(cls, cluster):
        from services.notify.examples import rpc_examples
        return rpc_examples(cluster)

    @classmethod
    def load_demo_live(cls, config, cluster, scale=1.0):
        from services.notify.demo import load_demo_live
        return load_demo_live(config, cluster, scale)

    # -- events in, deliveries recorded (nothing is sent inside the handler) ------------------
    @subscribe_batch(bindings_from=intake.bindings)
    def on_events(self, events):
        with self.store.handling_batch(events) as (session, fresh):
            counts = intake.record(session, self.settings, fresh, self.clock())
        if counts["skipped"]:
            log.info("notify: %d message(s) of %d event(s) skipped (no recipient, or too old); "
                     "each is kept in deliveries with its reason", counts["skipped"], len(fresh))

    @SendTimer.decorator(interval=2)
    def send_due(self):
        sender.run_safely(self.store, self.settings, self.channel, self.lookup, self.clock)

    # -- webhook subscriptions -------------------------------------------------------------------
    @rpc_write
    def create_webhook(self, payload):
        self.caller.require(http_api.PERMISSION)
        data = schemas.load(schemas.webhook_input(self.settings.webhooks.allowed_schemes), payload)
        with self.store.transaction() as session:
            return subscriptions.create(session, data, self.clock(), self.caller.user,
                                        self.settings.webhooks.max_active,
                                        self.settings.webhooks.secret_key)

    @rpc
    def list_webhooks(self, offset=0, limit=50, include_disabled=False):
        self.caller.require(http_api.PERMISSION)
        offset, limit = schemas.paging(offset, limit)
        include_disabled = inputs.flag(include_disabled, "include_disabled")
        with self.store.reading() as session:
            return subscriptions.listing(session, offset, limit, include_disabled)

    @rpc
    def get_webhook(self, subscription_id):
        self.caller.require(http_api.PERMISSION)
        subscription_id = inputs.positive_id(subscription_id, "subscription_id")
        with self.store.reading() as session:
            return subscriptions.subscription_dict(subscriptions.get(session, subscription_id))

    @rpc_write
    def disable_webhook(self, subscription_id):
        self.caller.require(http_api.PERMISSION)
        subscription_id = inputs.positive_id(subscription_id, "subscription_id")
        with self.store.transaction() as session:
            return subscriptions.disable(session, subscription_id, self.clock())

    @rpc
    def webhook_deliveries(self, subscription_id, offset=0, limit=50, status=None):
        self.caller.require(http_api.PERMISSION)
        subscription_id = inputs.positive_id(subscription_id, "subscription_id")
        offset, limit = schemas.paging(offset, limit)
        status = schemas.status(status)
        with self.store.reading() as session:
            return deliveries.webhook_log(session, subscription_id, offset, limit, status)

    @rpc
    def get_webhook_delivery(self, delivery_id):
        self.caller.require(http_api.PERMISSION)
        delivery_id = inputs.positive_id(delivery_id, "delivery_id")
        with self.store.reading() as session:
            return deliveries.webhook_delivery(session, delivery_id)

    @rpc_write
    def replay_webhook_delivery(self, delivery_id):
        self.caller.require(http_api.PERMISSION)
        delivery_id = inputs.positive_id(delivery_id, "delivery_id")
        with self.store.transaction() as session:
            return deliveries.replay(session, delivery_id, "webhook", self.clock())

    # -- messages to people ---------------------------------------------------------------------
    @rpc
    def list_messages(self, offset=0, limit=50, status=None, template=None):
        offset, limit = schemas.paging(offset, limit)
        status = schemas.status(status)
        if template is not None:
            template = inputs.choice(template, "template",
                                     [t.name for t in self.settings.templates])
        with self.store.reading() as session:
            return deliveries.messages(session, offset, limit, status, template)

    @rpc_write
    def replay_message(self, delivery_id):
        delivery_id = inputs.positive_id(delivery_id, "delivery_id")
        with self.store.transaction() as session:
            return deliveries.replay(session, delivery_id, "message", self.clock())

    @rpc
    def preview_templates(self):
        return preview.preview(self.settings)
