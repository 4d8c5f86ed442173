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

Refresh ahead: once a kept answer is half its life old, the next read of it still gets it at
once, and one call in the background (``spawn``) fetches its successor. A board read steadily
is therefore never waited for; only a question nobody asked in the last ``seconds`` waits for
its call. A background call that fails is logged in one line and the kept answer serves out its
life.

Rendered answers: the gateway also keeps the response it made of a kept answer, by URL
(``remember``), and serves it to the next anonymous request of that URL without matching a
route, parsing arguments or starting a worker (``rendered``), for as long as that answer is the
kept one and is not due for its refresh.
"""
import json
import logging
import time

import eventlet
from eventlet.event import Event

from shared.logs import describe

log = logging.getLogger(__name__)


class PublicCache:
    def __init__(self, seconds: float, max_entries: int = 4096, clock=time.monotonic,
                 spawn=eventlet.spawn):
        self.seconds = seconds
        self.max_entries = max_entries
        self.clock = clock
        self.spawn = spawn             # runs a callable in the background
        self._kept: dict = {}          # key -> (expires_at, refresh_at, value)
        self._pending: dict = {}       # key -> Event sent the call's outcome
        self._rendered: dict = {}      # url -> (key, kept entry, rendered response)

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
            if kept[1] <= now and key not in self._pending:
                self._pending[key] = Event()
                self.spawn(lambda: self._refresh(key, call))
            return kept[2]
        pending = self._pending.get(key)
        if pending is not None:
            return pending.wait()
        self._pending[key] = Event()
        return self._fetch(key, call)

    def entry(self, key):
        """The kept entry of ``key`` (an opaque token for ``remember``), or None."""
        return self._kept.get(key)

    def remember(self, url, key, entry, rendered):
        """Serve ``rendered`` for ``url`` while ``entry`` is the kept answer of ``key``."""
        if entry is None or self._kept.get(key) is not entry:
            return
        if len(self._rendered) >= self.max_entries:
            self._rendered.clear()
        self._rendered[url] = (key, entry, rendered)

    def rendered(self, url):
        """What ``remember`` kept for ``url``, if its answer is still the kept one, fresh, and
        not due for a refresh that is not already in flight; else None."""
        memo = self._rendered.get(url)
        if memo is None or self.seconds <= 0:
            return None
        key, entry, rendered = memo
        if self._kept.get(key) is not entry:
            return None
        now = self.clock()
        if entry[0] <= now or (entry[1] <= now and key not in self._pending):
            return None
        return rendered

    def _fetch(self, key, call):
        event = self._pending[key]
        try:
            value = call()
        except BaseException as exc:
            event.send_exception(exc)
            raise
        else:
            self._keep(key, value, self.clock())
            event.send(value)
            return value
        finally:
            del self._pending[key]

    def _refresh(self, key, call):
        try:
            self._fetch(key, call)
        except Exception as exc:
            log.warning("public read %s not refreshed: %s", key, describe(exc))

    def _keep(self, key, value, now):
        if len(self._kept) >= self.max_entries:
            self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            if len(self._kept) >= self.max_entries:
                self._kept.clear()
            self._rendered = {url: memo for url, memo in self._rendered.items()
                              if memo[0] in self._kept}
        self._kept[key] = (now + self.seconds, now + self.seconds / 2, value)
