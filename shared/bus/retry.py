"""When a failed message is tried again, and when a loop retries: the rules, as pure functions.

The policy is capped exponential backoff with jitter, set in the config's ``bus`` section::

    bus:
      retry: {attempts: 5, base_ms: 1000, max_ms: 30000, jitter: 0.5}

Retry n (n = 1 .. attempts) waits at most ``cap_n = min(max_ms, base_ms * 2 ** (n - 1))``
(1, 2, 4, 8, 16 s above) and at least ``cap_n * (1 - jitter)``, drawn at random in between, so
the messages of one outage do not all come back in the same instant. After the last retry the
message is dead-lettered. Each distinct cap is one delay queue (``jiceng.delay.{cap}ms``, whose
TTL is the cap); the drawn delay goes on the message as its expiration, so a message never waits
longer than its cap.

The older form ``retry_delays_ms: [1000, 5000, 30000]`` still works: its values are the caps,
one per retry (the same delay queues as before), with the default jitter. ``retry`` wins when
both are given.

A loop of the process itself (a consumer reconnecting, the outbox relay, a batch held through a
database outage) uses ``Backoff``: the same capped exponential with jitter, reset on success.
"""
import random
from dataclasses import dataclass

ATTEMPT_HEADER = "x-jiceng-attempt"
DEFAULT = {"attempts": 5, "base_ms": 1000, "max_ms": 30000, "jitter": 0.5}


@dataclass(frozen=True)
class Policy:
    caps_ms: tuple[int, ...]     # the longest wait before retry n, n = 1 .. attempts
    jitter: float = 0.0          # each wait is drawn from [cap * (1 - jitter), cap]

    @property
    def attempts(self) -> int:
        """Retries before the dead-letter queue (the first delivery not counted)."""
        return len(self.caps_ms)

    @property
    def delay_queues_ms(self) -> list[int]:
        """The delay queues this policy needs (one per distinct cap)."""
        return sorted(set(self.caps_ms))


@dataclass(frozen=True)
class Decision:
    action: str          # "retry" or "dead_letter"
    delay_ms: int | None          # the drawn wait (the message's expiration)
    next_attempt: int
    queue_ms: int | None = None   # the delay queue it waits in (its cap)


def capped(n: int, base_ms: float, max_ms: float) -> float:
    """The cap of retry ``n`` (1-based): ``min(max_ms, base_ms * 2 ** (n - 1))``."""
    return min(float(max_ms), float(base_ms) * 2.0 ** min(max(n, 1) - 1, 62))


def jittered(cap: float, jitter: float, rand=random.random) -> float:
    """A wait drawn from ``[cap * (1 - jitter), cap]``."""
    return cap * (1.0 - jitter * rand())


def policy(bus: dict | None) -> Policy:
    """The retry policy of a config's ``bus`` section (see the module docstring). Raises
    ``ValueError`` naming the setting that is wrong."""
    bus = bus or {}
    given = bus.get("retry")
    if given is None and bus.get("retry_delays_ms") is not None:
        caps = bus["retry_delays_ms"]
        if not isinstance(caps, (list, tuple)) or not all(_number(v) and v > 0 for v in caps):
            raise ValueError("bus.retry_delays_ms must be a list of positive milliseconds")
        return Policy(tuple(int(v) for v in caps), _jitter(DEFAULT["jitter"]))
    settings = {**DEFAULT, **(given or {})}
    unknown = set(settings) - set(DEFAULT)
    if unknown:
        raise ValueError(f"bus.retry: unknown setting(s) {', '.join(sorted(unknown))}")
    attempts, base, top = settings["attempts"], settings["base_ms"], settings["max_ms"]
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 0 <= attempts <= 50:
        raise ValueError("bus.retry.attempts must be a whole number from 0 to 50")
    if not _number(base) or base <= 0:
        raise ValueError("bus.retry.base_ms must be a positive number of milliseconds")
    if not _number(top) or top < base:
        raise ValueError("bus.retry.max_ms must be a number of milliseconds, at least base_ms")
    return Policy(tuple(int(capped(n, base, top)) for n in range(1, attempts + 1)),
                  _jitter(settings["jitter"]))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _jitter(value) -> float:
    if not _number(value) or not 0 <= value < 1:
        raise ValueError("bus.retry.jitter must be a number from 0 up to (not including) 1")
    return float(value)


def decide(attempt: int, rule, retryable: bool = True, rand=random.random) -> Decision:
    """``attempt`` is 1 for the first delivery; ``rule`` a ``Policy`` (or a list of caps, taken
    without jitter). With caps [1000, 5000] a message is tried three times (at once, after at
    most 1 s, after at most 5 s) and then dead-lettered. Non-retryable failures (a payload that
    breaks its contract) are dead-lettered at once."""
    rule = rule if isinstance(rule, Policy) else Policy(tuple(int(v) for v in rule))
    if retryable and attempt <= rule.attempts:
        cap = rule.caps_ms[attempt - 1]
        return Decision("retry", max(1, round(jittered(cap, rule.jitter, rand))), attempt + 1,
                        cap)
    return Decision("dead_letter", None, attempt)


def attempt_of(headers) -> int:
    try:
        return max(1, int((headers or {}).get(ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1


class Backoff:
    """Waits for a loop that retries: ``next()`` gives the seconds to wait after one more
    failure in a row (capped exponential from ``base`` to ``cap``, with jitter), ``reset()``
    starts again after a success."""

    def __init__(self, base: float = 0.5, cap: float = 10.0, jitter: float = 0.5,
                 rand=random.random):
        self.base, self.cap, self.jitter, self.rand = base, cap, jitter, rand
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        return jittered(capped(self.failures, self.base, self.cap), self.jitter, self.rand)

    def reset(self):
        self.failures = 0


def outage(exc) -> bool:
    """Whether ``exc`` says the database could not be reached or lost the connection (the whole
    batch would fail the same way: hold it and try again) rather than that the events or the
    code are wrong. A deadlock or a timeout on a reachable database is one too; the caller checks
    whether the database answers before holding a batch for long."""
    from sqlalchemy import exc as db_errors
    if isinstance(exc, db_errors.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (db_errors.OperationalError, db_errors.InterfaceError,
                            db_errors.DisconnectionError, db_errors.TimeoutError))
