"""Idempotent write RPCs: ``@rpc_write``, the write-side twin of the inbox.

nameko acknowledges an RPC request after its reply is sent, so a crash or a dropped broker
connection between the commit and the acknowledgement delivers the request again, and a client
that retries after a timeout sends it again. A write RPC must not write twice::

    class MembersService(ServiceBase):
        store = Store(Base.metadata)

        @rpc_write                          # instead of @rpc: the body does not change
        def record_activity(self, payload):
            data = schemas.load(schemas.ActivityInput, payload)
            with self.store.transaction() as session:
                return records.activity_dict(records.record_activity(session, data))

The whole method runs in ONE transaction of the service's ``store`` (``store="name"`` picks
another ``Store`` attribute); ``self.store.transaction()`` inside it joins that transaction. The
transaction first claims the request's key in ``bus_requests`` (consumer ``service.method``),
runs the method and stores its reply (kombu JSON, as nameko sends it) in the same commit. A
request whose key was claimed before returns the stored reply without running the method; one
that arrives while the first is still in flight waits for it (on PostgreSQL the second claim
blocks on the primary key until the first commits, then finds its reply; on SQLite a process's
transactions take turns). A method that raises (``InvalidInput``, ``NotFound``, ``Conflict`` or
anything else) rolls back its claim with its writes: a refused request stores nothing, and the
same key with a corrected request is applied.

The key, in order:

* the caller's idempotency key, ``idempotency_key`` in the RPC context data (the gateway sets it
  from HTTP ``Idempotency-Key``; ``shared.bus.rpc.idempotent(proxy, key)`` and
  ``rpc_client(config, idempotency_key=...)`` pass one): stored as ``key:<key>``. The same key
  with other arguments is refused with ``Conflict`` (arguments are compared by a SHA-256 of
  their canonical JSON);
* otherwise the request message's own identity, which a broker redelivery keeps: nameko 2.14.1
  puts a fresh ``correlation_id`` (uuid4) in the properties of every RPC request (no
  ``message_id``) and the broker redelivers the very same message: stored as ``rpc:<id>``. A
  client's own retry is a new message with a new id: only an idempotency key covers it.

Keys are request-scoped: ``BoundedRpc`` does not pass a worker's key on to the RPCs it makes
(pass one explicitly with ``idempotent``). Stored replies expire with the inbox (``jiceng
prune --keep-days``): a repeat after that runs again.

Keep a write RPC's body to the database: no calls to other services inside it (they would run
while its transaction, and on SQLite the service's write lock, is held).
"""
import functools
import hashlib
import inspect
import json
import logging
from contextlib import contextmanager

from kombu.utils import json as kombu_json
from sqlalchemy import select, update

from shared.bus.inbox import _insert
from shared.bus.outbox import now
from shared.bus.refusals import Rpc
from shared.errors import Conflict, InvalidInput

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = "idempotency_key"      # context data: the caller's key
REQUEST_IDENTITY = "jiceng_request_id"   # context data: the request message's identity
REQUEST_SCOPED = (IDEMPOTENCY_KEY, REQUEST_IDENTITY)   # never passed on to nested calls
MAX_KEY_LENGTH = 200


def request_key(context: dict) -> str | None:
    """The key of the request a worker serves (see the module docstring); ``InvalidInput`` for
    an idempotency key that is not a string of 1 to 200 characters."""
    key = context.get(IDEMPOTENCY_KEY)
    if key is not None:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH \
                or any(ord(c) < 32 for c in key):
            raise InvalidInput({IDEMPOTENCY_KEY: [
                f"must be 1 to {MAX_KEY_LENGTH} printable characters"]})
        return f"key:{key}"
    identity = context.get(REQUEST_IDENTITY)
    return f"rpc:{identity}" if identity else None


def message_identity(message) -> str | None:
    """What identifies an AMQP request message across redeliveries."""
    properties = message.properties or {}
    return properties.get("correlation_id") or properties.get("message_id") or None


def fingerprint(fn, args, kwargs) -> str:
    """SHA-256 of the call's arguments, bound to ``fn``'s parameters (so ``f(1)`` and ``f(x=1)``
    are the same request)."""
    try:
        bound = inspect.signature(fn).bind(None, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(list(bound.arguments.items())[1:])
    except TypeError:
        arguments = {"args": list(args), "kwargs": kwargs}
    text = json.dumps(arguments, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Request:
    """One write RPC's transaction: ``session``, and ``answered``/``reply`` when its key was
    claimed before."""

    def __init__(self, session, table, consumer, key, fingerprint):
        self.session = session
        self.table = table
        self.consumer = consumer
        self.key = key
        self.fingerprint = fingerprint
        self.answered = False
        self.reply = None

    def claim(self):
        """Claim the key, or load the stored reply (``answered``)."""
        if self.key is None:
            return
        table = self.table
        statement = _insert(self.session)(table).values(
            consumer=self.consumer, request_key=self.key, fingerprint=self.fingerprint,
            reply=None, created_at=now()).on_conflict_do_nothing()
        if self.session.execute(statement).rowcount == 1:
            return
        row = self.session.execute(select(table.c.fingerprint, table.c.reply).where(
            table.c.consumer == self.consumer, table.c.request_key == self.key)).one()
        if row.fingerprint != self.fingerprint:
            raise Conflict(f"idempotency key {self.key[4:]!r} was used before for another "
                           f"request to {self.consumer}")
        if row.reply is None:      # cannot happen: the reply is stored in the claim's commit
            raise RuntimeError(f"{self.consumer}: request {self.key} has no stored reply")
        self.answered = True
        self.reply = kombu_json.loads(row.reply)
        log.info("%s: request %s answered before; its reply is returned again",
                 self.consumer, self.key)

    def answer(self, result):
        """Store ``result`` as the reply of the claimed key (in the same transaction)."""
        if self.key is None:
            return
        table = self.table
        self.session.execute(update(table).where(
            table.c.consumer == self.consumer, table.c.request_key == self.key)
            .values(reply=kombu_json.dumps(result)))


class WriteRpc(Rpc):
    """``shared.bus.refusals.Rpc`` (nameko's ``Rpc``, refusals logged as one INFO line), plus
    the request message's identity in the worker's context data (``REQUEST_IDENTITY``), always
    from this message (a value that came in with the headers is replaced)."""

    def unpack_message_headers(self, message):
        data = dict(super().unpack_message_headers(message))
        data.pop(REQUEST_IDENTITY, None)
        identity = message_identity(message)
        if identity:
            data[REQUEST_IDENTITY] = identity
        return data


def rpc_write(fn=None, *, store="store", **options):
    """``@rpc`` for a method that writes: idempotent by request key (see the module docstring).
    ``store`` names the ``Store`` attribute; other keyword arguments go to nameko's ``Rpc``."""

    def decorate(fn):
        @functools.wraps(fn)
        def write(self, *args, **kwargs):
            handle = getattr(self, store)
            with handle.request(fn.__name__, fingerprint(fn, args, kwargs)) as request:
                if request.answered:
                    return request.reply
                result = fn(self, *args, **kwargs)
                request.answer(result)
            return result

        write.rpc_write = True
        return WriteRpc.decorator(**options)(write)

    return decorate(fn) if fn is not None else decorate


def is_write(method) -> bool:
    """Whether a service method is declared with ``@rpc_write``."""
    return getattr(method, "rpc_write", False)


@contextmanager
def joined(session, failures: list):
    """A transaction block inside a write RPC's transaction: the same session; an exception
    that leaves the block is remembered, so the request rolls back even if the method caught
    it (a block's writes are all or nothing, as in a transaction of its own)."""
    try:
        yield session
    except BaseException as exc:
        failures.append(exc)
        raise
