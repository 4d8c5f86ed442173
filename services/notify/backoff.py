"""When a failed delivery is tried again: capped exponential backoff with jitter (pure).

After failure ``n`` (1-based) the next attempt waits at most ``min(max_seconds, base_seconds *
2 ** (n - 1))`` and at least ``(1 - jitter)`` times that, drawn at random in between, so the
deliveries of one outage do not all come back in the same instant. After ``max_attempts``
failures the delivery is given up (``failed``; an RPC can replay it)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 12
    base_seconds: float = 10.0
    max_seconds: float = 3600.0
    jitter: float = 0.5


def ceiling(failures: int, policy: Policy) -> float:
    """The longest wait after ``failures`` failed attempts."""
    exponent = min(max(failures, 1) - 1, 62)
    return min(float(policy.max_seconds), float(policy.base_seconds) * 2.0 ** exponent)


def delay(failures: int, policy: Policy, rand=random.random) -> float:
    """The wait after ``failures`` failed attempts, drawn from ``[cap * (1 - jitter), cap]``."""
    cap = ceiling(failures, policy)
    return cap * (1.0 - policy.jitter * rand())


def next_attempt(failures: int, policy: Policy, now: datetime,
                 rand=random.random) -> datetime | None:
    """When to try again after ``failures`` failed attempts; None: give up."""
    if failures >= policy.max_attempts:
        return None
    return now + timedelta(seconds=delay(failures, policy, rand))
