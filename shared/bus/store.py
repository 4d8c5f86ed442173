"""``Store``: a service's database, its outbox and its inbox as one nameko dependency.

    class MembersService(ServiceBase):
        name = "members"
        store = Store(models.Base.metadata)

        @rpc_write                                          # a write RPC: idempotent
        def register(self, payload):
            with self.store.transaction() as session:      # data + events, one commit
                session.add(member)
                session.publish("member_registered", {...})
                return {"id": member.id}                    # the reply, stored with the commit

        @rpc                                                # a read
        def get(self, member_id):
            with self.store.reading() as session:
                ...

        @subscribe("members", "activity_recorded")
        def on_activity(self, event):
            with self.store.handling(event) as session:    # inbox claim + work, one commit
                ...

        @subscribe_batch(bindings_from=lambda config: [("members", "activity_recorded")])
        def on_activities(self, events):
            with self.store.handling_batch(events) as (session, fresh):   # bulk claim + work
                ...

Which to use:

* ``transaction()``: one unit of work (data and the events it publishes commit together). Inside
  an ``@rpc_write`` method it joins the request's transaction instead of opening one.
* ``@rpc_write`` (``shared.bus.requests``) on every RPC that writes, instead of ``@rpc``: the
  method runs in one transaction that first claims the request's key (the caller's
  ``idempotency_key``, else the request message's correlation id, which a broker redelivery
  keeps) in ``bus_requests`` and stores the method's return value as the reply; a repeat returns
  the stored reply and writes nothing; a request that raises stores nothing. It uses
  ``request(name, fingerprint)`` below; a method never calls that itself.
* ``handling(event)`` / ``handling_batch(events)``: the same for event handlers, by event id in
  ``bus_inbox`` (a redelivered event changes nothing).
* ``reading()``: a session for reads (nothing is committed).

The provider also runs the outbox relay for the service (woken on every commit, polling as a
fallback) and, at setup, declares the whole bus topology of every installed service.
"""
import logging
import threading
from contextlib import contextmanager

from kombu import Connection
from nameko.extensions import DependencyProvider

from shared import config as config_module
from shared import db as db_module
from shared.bus import inbox, requests, retry, topology
from shared.bus.outbox import BusSession, Relay
from shared.bus.subscribe import BusPublisher
from shared.bus.tables import add_bus_tables, requests_table

log = logging.getLogger(__name__)


class StoreHandle:
    """What a worker gets: transactions bound to the service's outbox and the worker's context."""

    def __init__(self, database, outbox_table, inbox_table, source, context, requests_table=None):
        self.database = database
        self.outbox_table = outbox_table
        self.inbox_table = inbox_table
        self.requests_table = requests_table
        self.source = source
        self.context = context
        self._request = None        # the write RPC's transaction, while one is open
        self._failures = []

    @contextmanager
    def transaction(self):
        """A unit of work: commit on success, roll back on any exception. Inside an
        ``@rpc_write`` method: the request's own transaction (committed when the method
        returns)."""
        if self._request is not None:
            with requests.joined(self._request.session, self._failures) as session:
                yield session
            return
        info = dict(outbox_table=self.outbox_table, source=self.source,
                    correlation_id=self.context.get("correlation_id"),
                    causation_id=self.context.get("causation_id"))
        with self.database.transaction(BusSession, info) as session:
            yield session

    @contextmanager
    def request(self, name, fingerprint=""):
        """The transaction of the write RPC ``name`` (what ``@rpc_write`` wraps a method in):
        claims the request's key in ``bus_requests`` first and yields a ``requests.Request``:
        ``answered`` and ``reply`` when the key was claimed before (return that reply, write
        nothing), else call ``answer(result)`` before the block ends to store the reply with
        the commit."""
        if self._request is not None:
            raise RuntimeError(f"{self.source}.{name}: a write RPC's transaction is already open")
        if self.requests_table is None:
            raise RuntimeError(f"{self.source}: this Store has no bus_requests table")
        key = requests.request_key(self.context)
        with self.transaction() as session:
            request = requests.Request(session, self.requests_table, f"{self.source}.{name}",
                                       key, fingerprint)
            request.claim()
            self._request, self._failures = request, []
            try:
                yield request
                if self._failures:      # a joined block failed and the method went on
                    raise self._failures[0]
            finally:
                self._request = None

    @contextmanager
    def handling(self, event, consumer=None):
        """A transaction that first claims ``event`` in the inbox (raises ``AlreadyHandled``)."""
        consumer = consumer or self.context.get("consumer") or self.source
        with self.transaction() as session:
            inbox.claim(session, self.inbox_table, consumer, event.id)
            yield session

    @contextmanager
    def handling_batch(self, events, consumer=None):
        """A transaction that first claims every event of ``events`` in the inbox in one statement;
        yields ``(session, fresh)``: the events (in delivery order) this consumer never handled
        before. Duplicates (claimed before, or the same id twice in ``events``) are left out, so
        it never raises ``AlreadyHandled``."""
        consumer = consumer or self.context.get("consumer") or self.source
        with self.transaction() as session:
            claimed = inbox.claim_many(session, self.inbox_table, consumer, [e.id for e in events])
            fresh = []
            for event in events:
                if event.id in claimed:
                    fresh.append(event)
                    claimed.discard(event.id)
                else:
                    log.debug("%s: event %s already handled; skipped", consumer, event.id,
                              extra={"consumer": consumer, "event_id": event.id})
            if len(fresh) < len(events):
                log.info("%s: %s of %s events of a batch already handled; skipped", consumer,
                         len(events) - len(fresh), len(events), extra={"consumer": consumer})
            yield session, fresh

    def reading(self):
        return self.database.reading()


class Store(DependencyProvider):
    bus_publisher = BusPublisher()

    def __init__(self, metadata, relay=True):
        self.metadata = metadata
        self.outbox_table, self.inbox_table = add_bus_tables(metadata)
        self.requests_table = requests_table(metadata)
        self.run_relay = relay

    def setup(self):
        config = self.container.config
        self.service_name = self.container.service_name
        self.database = db_module.database(config_module.database_url(config, self.service_name))
        bus = config["bus"] if "bus" in config else config_module.BUS_DEFAULTS
        self.poll_seconds = float(bus.get("relay_poll_seconds", 0.5))
        self.batch_size = int(bus.get("relay_batch_size", 200))
        if bus.get("declare_topology", True):
            declare_all(config)
        self._stopping = threading.Event()
        self.relay = None

    def start(self):
        if not self.run_relay:
            return
        self.relay = Relay(self.database, self.outbox_table, self.bus_publisher.publisher,
                           self.batch_size, name=f"{self.service_name}: outbox relay")
        self.database.after_commit_hooks.append(self.relay.wakeup.set)
        self._thread = self.container.spawn_managed_thread(
            lambda: self.relay.run(self._stopping, self.poll_seconds))

    def stop(self):
        self._stopping.set()
        if self.relay is not None:
            self.relay.wakeup.set()
            if self.relay.wakeup.set in self.database.after_commit_hooks:
                self.database.after_commit_hooks.remove(self.relay.wakeup.set)
            self._thread.wait()

    def kill(self):
        self._stopping.set()

    def get_dependency(self, worker_ctx):
        return StoreHandle(self.database, self.outbox_table, self.inbox_table, self.service_name,
                           worker_ctx.context_data, self.requests_table)

    def handle(self, url: str, source: str | None = None, context: dict | None = None):
        """What a worker would get, on the database at ``url``, without nameko: for
        service-layer tests and scripts (``MyService.store.handle(url).transaction()``).
        ``source`` (the service name) defaults to the name of the class holding this store."""
        source = source or getattr(self, "_owner_name", None) or "service"
        return StoreHandle(db_module.database(url), self.outbox_table, self.inbox_table, source,
                           dict(context or {}), self.requests_table)

    def __set_name__(self, owner, attribute):
        self._owner_name = getattr(owner, "name", None) or None


def declare_all(config, classes=None):
    """Declare the topology of every installed service, or of ``classes`` ({name: class}), or
    of the services named in ``bus.topology_services`` (a deployment or a test that runs only
    some of them); idempotent."""
    from shared import plugins
    named = (config.get("bus") or {}).get("topology_services")
    if classes is None and named:
        classes = {name: plugins.service(name) for name in named}
    publishers, subscriptions = plugins.bus_participants(config, classes)
    plan = topology.plan(publishers, subscriptions,
                         retry.policy(config.get("bus")).delay_queues_ms)
    with Connection(config["AMQP_URI"]) as connection:
        topology.declare(connection, plan)
    return plan
