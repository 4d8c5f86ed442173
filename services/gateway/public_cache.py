"""Answers of public reads (routes with ``permission=None``: ranking boards, distributions),
kept for a moment per gateway process.

A county's boards are read by every phone that scans a notice board's QR code, and each read is
the same question to the stars service. ``PublicCache`` answers repeats of a question from
memory for ``seconds`` (``gateway.public_cache_seconds``, default 1; 0 turns it off), and while
one call for a question is in flight, the others asking it wait for that call instead of making
their own (so 50 phones cost one RPC, not 50). A failed call is not kept: the next read asks
again. The answer is at most ``seconds`` older than the service's, which is also what the
response's ``Cache-Control: public, max-age=...`` tells browsers and proxies. A request with
``Cache-Control: no-cache`` is answered by the service itself.
"""
import json
import time

from eventlet.event import Event


class PublicCache:
    def __init__(self, seconds: float, max_entries: int = 4096, clock=time.monotonic):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self._kept: dict = {}          # key -> (expires_at, value)
        self._pending: dict = {}       # key -> Event sent the call's outcome

    @staticmethod
    def key(service: str, rpc: str, kwargs: dict) -> str:
        return json.dumps([service, rpc, kwargs], sort_keys=True, default=str)

    def answer(self, key: str, call):
        """``call()``'s value for ``key``: kept, awaited from a call in flight, or called."""
        if self.seconds <= 0:
            return call()
        now = self.clock()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        pending = self._pending.get(key)
        if pending is not None:
            return pending.wait()
        event = self._pending[key] = Event()
        try:
            value = call()
        except BaseException as exc:
            event.send_exception(exc)
            raise
        else:
            self._keep(key, value, now)
            event.send(value)
            return value
        finally:
            del self._pending[key]

    def _keep(self, key, value, now):
        if len(self._kept) >= self.max_entries:
            self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            if len(self._kept) >= self.max_entries:
                self._kept.clear()
        self._kept[key] = (now + self.seconds, value)
