"""``Clock``: the notify service's notion of now, as a nameko dependency tests can set.

The sender's schedule (when a delivery is due, the backoff after a failure) and the staleness
of events are read from ``self.clock()`` (a UTC ``datetime``), so a test skips an hour of
backoff by moving the clock instead of waiting::

    from nameko.testing.utils import get_extension
    clock = get_extension(runner.containers[0], Clock)
    clock.advance(timedelta(hours=1))      # frozen an hour ahead
    clock.release()                        # real time again

Webhook signatures are stamped with the real wall-clock time, never this one: receivers check
the timestamp against their own clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nameko.extensions import DependencyProvider


def real_now() -> datetime:
    return datetime.now(timezone.utc)


class Clock(DependencyProvider):
    def setup(self):
        self.frozen: datetime | None = None
        self.offset = timedelta(0)

    def set(self, moment: datetime):
        if moment.tzinfo is None:
            raise ValueError("set the clock to an aware datetime")
        self.frozen = moment.astimezone(timezone.utc)

    def advance(self, delta: timedelta):
        """Move the clock on; a running clock keeps running, ``delta`` ahead."""
        if self.frozen is not None:
            self.frozen += delta
        else:
            self.offset += delta

    def release(self):
        self.frozen, self.offset = None, timedelta(0)

    def now(self) -> datetime:
        return self.frozen or real_now() + self.offset

    def get_dependency(self, worker_ctx):
        return self.now
