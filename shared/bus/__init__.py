"""The reliable bus: outbox, inbox, subscriptions with retries and dead letters, bounded RPC,
idempotent write RPCs. A read RPC is declared with ``shared.bus.refusals.rpc``: nameko's
``@rpc`` with refusals (``REFUSALS``) logged as one INFO line.

The public API (``from shared.bus import subscribe_batch``, ...); everything else is internal."""
from shared.bus.batch import subscribe_batch
from shared.bus.inbox import AlreadyHandled
from shared.bus.refusals import REFUSALS
from shared.bus.requests import rpc_write
from shared.bus.rpc import BoundedRpc, idempotent, rpc_client
from shared.bus.store import Store, declare_all
from shared.bus.subscribe import subscribe, subscribe_dynamic

__all__ = ["subscribe", "subscribe_dynamic", "subscribe_batch", "Store", "AlreadyHandled",
           "BoundedRpc", "rpc_client", "idempotent", "rpc_write", "REFUSALS",
           "declare_all"]
