"""``ServiceBase``: what every Jiceng service class inherits.

Subclasses set ``name`` (the nameko service name, also the entry point name), ``publishes``
(event types whose contracts the service owns) and usually a ``store = Store(metadata)``.
They get a ``health`` RPC that the runner, the compose health checks and the gateway call.

Declaring RPCs: ``from shared.bus.refusals import rpc`` for reads and ``from shared.bus import
rpc_write`` for writes, never ``nameko.rpc.rpc``. Both treat the refusals (``InvalidInput``,
``NotFound``, ``Conflict``, ``Forbidden``) as expected: the caller gets the typed error and the
log one INFO line (``members.get_member refused: NotFound: ...``), not a traceback, which nameko
keeps for real faults. Event handlers (``@subscribe``, ``@subscribe_batch``) log a retry as one
WARNING line and a dead letter as one ERROR line with its traceback. Log about payloads through
``shared.logs.cut`` / ``describe`` (never a body whole); run with ``shared.logs.configure``
(``logging: {format: text|json, level: INFO}`` in the config, ``LOG_FORMAT`` / ``LOG_LEVEL``).

Extension point for the tests: ``rpc_examples(cluster)`` gives valid calls of the service's RPCs,
which the shared input fuzz suite (``tests/contracts/test_rpc_inputs.py``) mutates one field at a
time. Without it every RPC is still fuzzed, with generic hostile values only. Build RPC inputs
from ``shared.inputs`` (text without control characters, bounded ids and decimals, digits
normalised) and the suite passes.
"""
import os
import socket

from sqlalchemy import select

from shared import scope
from shared.bus import outbox
from shared.bus.refusals import rpc


class ServiceBase:
    name: str = ""
    version = "0.1.0"
    publishes: tuple[str, ...] = ()
    scope_units = None      # the model of the service's copy of the organisation units

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        scope.guard_methods(cls)

    def scope_context(self) -> dict:
        """The worker's RPC context (``shared.scope`` reads the caller from it)."""
        store = getattr(self, "store", None)
        return getattr(store, "context", None) or {}

    def scope_parent_of(self, unit_id):
        """The parent of ``unit_id`` in this service's copy of the organisation tree, None at
        the root or for a unit it does not know (extension point of ``shared.scope``). By
        default from the ``scope_units`` model: its ``parent_id``, else its ``township_id``
        (a township's own is itself, or empty)."""
        model = self.scope_units
        if model is None:
            return None
        column = getattr(model, "parent_id", None)
        if column is None:
            column = model.township_id
        with self.store.reading() as session:
            parent = session.scalar(select(column).where(model.id == unit_id))
        return None if parent == unit_id else parent

    @classmethod
    def rpc_examples(cls, cluster) -> dict[str, list[dict]]:
        """Valid calls of this service's RPCs: ``{method: [keyword arguments, ...]}``.

        The input fuzz suite starts every installed service on fresh databases (PostgreSQL, then
        SQLite) and calls this once per database, after the ``rpc_examples`` of the services this
        one subscribes to (their events have been handled). ``cluster`` is an RPC client of that
        system (``cluster.members.create_org_unit(...)``): create through it the rows the examples
        refer to, and use the ids it returns. The suite calls each example once as given and
        requires it to succeed, so an example must still be valid when its RPC's turn comes
        (RPCs in name order, each fuzzed after its examples): give an RPC that changes what it
        touches for good (leaving, dissolving, closing) rows of its own. Then each example is
        mutated one field at a time (dropped, added, replaced with a hostile value, its digits
        typed full-width), nested dicts and lists included. Return the same shapes on both
        databases. Default: no examples."""
        return {}

    @rpc
    def health(self):
        report = {"service": self.name, "version": self.version, "status": "ok",
                  "host": socket.gethostname(), "pid": os.getpid()}
        store = getattr(self, "store", None)
        if store is not None:
            try:
                with store.reading() as session:
                    report["outbox_pending"] = outbox.pending_count(session, store.outbox_table)
                report["database"] = "ok"
            except Exception as exc:  # health reports, it does not raise
                report.update(status="degraded", database=f"{type(exc).__name__}: {exc}")
        return report
