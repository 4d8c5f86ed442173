"""``Clock``: the service's notion of now, as a nameko dependency tests can set.

Every RPC, HTTP request and scheduler tick of the tickets service takes its time from
``self.clock()`` (a UTC ``datetime``), never from ``datetime.now``, so a test can move the
service through days and holidays::

    from nameko.testing.utils import get_container, get_extension
    clock = get_extension(get_container(runner, TicketsService), Clock)
    clock.set(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc))   # frozen there
    clock.advance(timedelta(days=9))                               # and moved on
    clock.release()                                                # real time again

A worker reads the clock once per call (``now = self.clock()``) and uses that one moment.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nameko.extensions import DependencyProvider


def real_now() -> datetime:
    return datetime.now(timezone.utc)


class Clock(DependencyProvider):
    def setup(self):
        self.frozen: datetime | None = None

    def set(self, moment: datetime):
        if moment.tzinfo is None:
            raise ValueError("set the clock to an aware datetime")
        self.frozen = moment.astimezone(timezone.utc)

    def advance(self, delta: timedelta):
        self.set((self.frozen or real_now()) + delta)

    def release(self):
        self.frozen = None

    def now(self) -> datetime:
        return self.frozen or real_now()

    def get_dependency(self, worker_ctx):
        return self.now
