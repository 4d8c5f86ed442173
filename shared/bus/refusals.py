"""Expected refusals are not faults: how a worker's exception is logged.

nameko logs every exception a worker raises with its traceback: ``ERROR`` for most,
``WARNING`` for the entrypoint's ``expected_exceptions``. For Jiceng, an RPC that refuses its
input (``InvalidInput``, ``NotFound``, ``Conflict``, ``Forbidden``: ``REFUSALS``) did its job,
and a subscription logs its own failures (one WARNING line per retry, the traceback only when it
dead-letters, see ``shared.bus.failures``). So ``WorkerErrors``, a filter on nameko's
``nameko.containers`` logger, rewrites those records:

* a refusal, or an exception the entrypoint lists in ``expected_exceptions``: one INFO line,
  ``members.get_member refused: NotFound: member 7 does not exist``, no traceback;
* any exception of an entrypoint with ``reports_own_failures = True`` (``@subscribe``,
  ``@subscribe_batch``): DEBUG, no traceback;
* anything else (a bug in an RPC): left as nameko logs it, ERROR with the traceback.

``rpc`` (``from shared.bus.refusals import rpc``) is nameko's ``@rpc`` with
``expected_exceptions`` set to ``REFUSALS`` (added to any given), and installs the filter when its
service starts, as do ``@rpc_write``, ``@subscribe`` and ``@subscribe_batch``;
``ServiceBase.health`` uses it, so every service has the filter (and then a plain nameko ``@rpc``
that raises a refusal is one INFO line too). ``shared.logs.configure`` installs it as well.
"""
import inspect
import logging

from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError
from nameko.rpc import Rpc as NamekoRpc

from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.logs import describe

log = logging.getLogger(__name__)
REFUSALS = (InvalidInput, NotFound, Conflict, Forbidden)
WORKER_ERRORS = ("error handling worker %s: %s", "(expected) error handling worker %s: %s")
NAMEKO_LOGGER = "nameko.containers"
REPLY_ERRORS = (OSError, AMQPError, OperationalError)   # the broker cannot take a reply


def expected(entrypoint, exc) -> bool:
    """Whether ``exc`` raised by a worker of ``entrypoint`` is an expected refusal."""
    listed = getattr(entrypoint, "expected_exceptions", ()) or ()
    return isinstance(exc, REFUSALS) or bool(listed) and isinstance(exc, listed)


def _rewrite(record, level, message, *args):
    record.levelno, record.levelname = level, logging.getLevelName(level)
    record.msg, record.args = message, args
    record.exc_info, record.exc_text, record.stack_info = None, None, None


class WorkerErrors(logging.Filter):
    """See the module docstring. Drops a rewritten record its logger is not enabled for."""

    def filter(self, record):
        if record.msg not in WORKER_ERRORS or not isinstance(record.args, tuple) \
                or len(record.args) != 2:
            return True
        worker_ctx, exc = record.args
        entrypoint = getattr(worker_ctx, "entrypoint", None)
        service = getattr(worker_ctx, "service_name", "?")
        name = f"{service}.{getattr(entrypoint, 'method_name', '?')}"
        if getattr(entrypoint, "reports_own_failures", False):
            level = logging.DEBUG
            _rewrite(record, level, "%s raised %s (the subscription logs what it does about it)",
                     name, describe(exc))
        elif expected(entrypoint, exc):
            level = logging.INFO
            _rewrite(record, level, "%s refused: %s", name, describe(exc))
        else:
            return True
        record.service = service
        return logging.getLogger(record.name).isEnabledFor(level)


_FILTER = WorkerErrors()


def install():
    """Put ``WorkerErrors`` on nameko's container logger (once per process)."""
    logger = logging.getLogger(NAMEKO_LOGGER)
    if not any(isinstance(f, WorkerErrors) for f in logger.filters):
        logger.addFilter(_FILTER)


class Rpc(NamekoRpc):
    """nameko's ``Rpc`` entrypoint, with ``REFUSALS`` expected and the log filter installed."""

    def __init__(self, expected_exceptions=(), **kwargs):
        if not isinstance(expected_exceptions, tuple):
            expected_exceptions = (expected_exceptions,)
        merged = REFUSALS + tuple(e for e in expected_exceptions if e not in REFUSALS)
        super().__init__(expected_exceptions=merged, **kwargs)

    def setup(self):
        install()
        super().setup()

    def check_signature(self, args, kwargs):
        """Arguments that do not fit the method (as written, not a wrapper of it) are refused
        with ``InvalidInput`` naming each missing or unexpected argument."""
        fn = inspect.unwrap(getattr(self.container.service_cls, self.method_name))
        problems = signature_problems(fn, args, kwargs)
        if problems:
            raise InvalidInput(problems)

    def handle_result(self, message, worker_ctx, result, exc_info):
        """nameko sends the reply, then acknowledges the request. When the reply cannot be
        sent (the broker is down: nameko's publisher gives up after 3 tries) nameko lets the
        error out of the worker, which kills the whole container: the service process exits
        and stays down (seen by ``make chaos`` when a RabbitMQ node stops mid-stream). Here the
        request is left unacknowledged instead: the broker delivers it again once it is back,
        and it is answered then (a write RPC from the reply stored with its commit, a read by
        reading again); the service keeps running."""
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except REPLY_ERRORS as exc:
            log.warning("%s.%s: reply not sent (%s); the request will be delivered again and "
                        "answered then", self.container.service_name, self.method_name,
                        describe(exc))
            try:
                self.rpc_consumer.requeue_message(message)
            except Exception:     # the connection is gone: the broker requeues it anyway
                pass
            return result, exc_info

    def handle_message(self, body, message):
        """Refuse a gateway call whose caller lacks the permission (``shared.bus.guard``); the
        refusal is the RPC's answer (nameko replies with what this raises)."""
        from shared.bus import guard
        reason = guard.refusal(self.container.service_cls, self.method_name,
                               self.unpack_message_headers(message))
        if reason is not None:
            raise Forbidden(reason)
        return super().handle_message(body, message)


rpc = Rpc.decorator


def signature_problems(fn, args, kwargs) -> dict[str, list[str]]:
    """``{argument: [reason]}`` for a call of the method ``fn`` (``self`` first) with ``args``
    and ``kwargs`` that does not fit its parameters; empty when it fits."""
    signature = inspect.signature(fn)
    try:
        signature.bind(None, *args, **kwargs)
        return {}
    except TypeError:
        pass
    parameters = list(signature.parameters.values())[1:]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_more = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters)
    problems = {}
    if len(args) > len(positional) and not takes_more:
        problems["_args"] = [f"takes at most {len(positional)} positional argument(s), "
                             f"{len(args)} given"]
    given = {p.name for p in positional[:len(args)]}
    names = {p.name for p in parameters}
    for name in kwargs:
        if name in given:
            problems[name] = ["given twice"]
        elif name not in names and not takes_any:
            problems[name] = ["is not an argument of this call"]
    for p in parameters:
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) \
                and p.name not in given and p.name not in kwargs:
            problems[p.name] = ["is required"]
    return problems or {"_args": ["do not fit this call"]}
