"""Logs an operator can read: short lines, no message body whole, repeating trouble summarised.

* ``cut(value)`` / ``describe(exc)``: what a log line may say about a payload, a repr or an error:
  at most ``LIMIT`` characters, then ``... (12,345 bytes)``. Never log a body without them.
* ``Throttle`` and ``Repeating``: a condition that repeats (the database down, the broker gone)
  is one WARNING line when it starts, one "still failing (n times in the last 30 s)" line per
  window while it lasts and one INFO "recovered" line when it ends, never a line per attempt.
* ``configure(config)``: the process's logging, from the config's ``logging`` section
  (``format: text|json``, ``level: INFO``), overridden by ``LOG_FORMAT`` / ``LOG_LEVEL``. JSON
  lines carry ``time``, ``level``, ``logger``, ``message`` and the extras a call passed
  (``extra={"consumer": ..., "event_id": ..., "attempt": ...}``), plus ``traceback``.
"""
import json
import logging
import os
import re
import sys
import time
import traceback
from datetime import datetime, timezone

LIMIT = 200                 # characters of a payload, repr or error message in a log line
MESSAGE_LIMIT = 4000        # a whole line, as a last resort (the formatters cut longer ones)
TRACEBACK_LINE_LIMIT = 300  # each line of a traceback (SQL errors quote whole statements)
NOISY = ("amqp", "alembic")    # libraries that say too much below ERROR
_BACKGROUND = re.compile(r"\(Background on this error at: [^)]*\)")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def cut(value, limit: int = LIMIT) -> str:
    """``value`` (text, bytes or anything: its repr) as at most ``limit`` characters; a longer
    one ends with ``... (N bytes)``, N being the size of the whole."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        text, size = repr(raw), len(raw)
    else:
        text = value if isinstance(value, str) else repr(value)
        size = None
    if len(text) <= limit:
        return text
    if size is None:
        size = len(text.encode("utf-8", "replace"))
    return f"{text[:limit]}... ({size:,} bytes)"


def describe(exc, limit: int = LIMIT) -> str:
    """An exception as one short line: ``Type: message`` (whitespace folded, SQLAlchemy's
    "Background on this error" link left out, message cut)."""
    text = " ".join(_BACKGROUND.sub("", str(exc)).split())
    return f"{type(exc).__name__}: {cut(text, limit)}"


def traceback_text(exc_info, line_limit: int = TRACEBACK_LINE_LIMIT, limit: int = 4000) -> str:
    """A traceback with every line cut to ``line_limit`` and the whole to its last ``limit``
    characters (where the error is)."""
    lines = "".join(traceback.format_exception(*exc_info)).splitlines()
    text = "\n".join(cut(line, line_limit) for line in lines)
    return text[-limit:]


class Throttle:
    """At most ``burst`` lines per key in each ``window`` seconds. ``admit(key)`` returns None
    (stay quiet: counted) or how many were kept quiet since the last admitted line."""

    def __init__(self, burst: int = 5, window: float = 30.0, clock=time.monotonic):
        self.burst, self.window, self.clock = burst, window, clock
        self._state = {}   # key -> [window start, admitted in it, quiet since the last admitted]

    def admit(self, key) -> int | None:
        now = self.clock()
        state = self._state.get(key)
        if state is None or now - state[0] >= self.window:
            state = self._state[key] = [now, 0, state[2] if state else 0]
        if state[1] >= self.burst:
            state[2] += 1
            return None
        state[1] += 1
        quiet, state[2] = state[2], 0
        return quiet


class Repeating:
    """One repeating condition of one loop (the relay's database, a consumer's broker): call
    ``failed(exc, then)`` on every failure and ``succeeded()`` on every success. Logs the first
    failure at WARNING, then at most one "still failing" line per ``window`` seconds, and
    "recovered" at INFO; no traceback unless asked for (the condition is outside the code)."""

    def __init__(self, logger, what: str, window: float = 30.0, clock=time.monotonic, **extra):
        self.logger, self.what, self.window, self.clock = logger, what, window, clock
        self.extra = extra
        self.failures = 0
        self.since = self.said_at = None
        self.quiet = 0

    def failed(self, exc, then: str = "", with_traceback: bool = False):
        """One more failure; ``with_traceback``: put ``exc``'s traceback on the first line (for an
        error that is not an outage, a bug shows where it is)."""
        now = self.clock()
        self.failures += 1
        then = f"; {then}" if then else ""
        if self.failures == 1:
            self.since = self.said_at = now
            self.logger.warning("%s failed: %s%s", self.what, describe(exc), then,
                                exc_info=exc if with_traceback else None, extra=self.extra)
        elif now - self.said_at >= self.window:
            self.logger.warning("%s still failing (%s times in the last %.0f s): %s%s",
                                self.what, self.quiet + 1, now - self.said_at, describe(exc),
                                then, extra=self.extra)
            self.said_at, self.quiet = now, 0
        else:
            self.quiet += 1

    def succeeded(self):
        if self.failures:
            self.logger.info("%s recovered after %s failures over %.1f s", self.what,
                             self.failures, self.clock() - self.since, extra=self.extra)
        self.failures, self.quiet = 0, 0


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, the message cut at ``MESSAGE_LIMIT`` and every
    traceback line at ``TRACEBACK_LINE_LIMIT``."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record):
        record.message = cut(record.message, MESSAGE_LIMIT)
        return super().formatMessage(record)

    def formatException(self, exc_info):
        return traceback_text(exc_info)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the call's extras, traceback."""

    def format(self, record):
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                    timespec="milliseconds"),
                "level": record.levelname, "logger": record.name,
                "message": cut(record.getMessage(), MESSAGE_LIMIT)}
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value if isinstance(value, (int, float, bool, type(None))) \
                    else cut(value if isinstance(value, str) else str(value))
        if record.exc_info:
            line["traceback"] = traceback_text(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


FORMATTERS = {"text": TextFormatter, "json": JsonFormatter}


def settings(config: dict, environ=None) -> dict:
    """``{"format": ..., "level": ...}`` from ``config["logging"]`` and the environment
    (``LOG_FORMAT``, ``LOG_LEVEL`` win); ``ValueError`` for an unknown format or level."""
    environ = os.environ if environ is None else environ
    section = (config or {}).get("logging") or {}
    fmt = str(environ.get("LOG_FORMAT") or section.get("format") or "text").lower()
    level = str(environ.get("LOG_LEVEL") or section.get("level") or "INFO").upper()
    if fmt not in FORMATTERS:
        raise ValueError(f"logging.format must be one of {', '.join(FORMATTERS)}, not {fmt!r}")
    if not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"logging.level {level!r} is not a logging level")
    return {"format": fmt, "level": level}


class _Handler(logging.StreamHandler):
    """The handler ``configure`` installs (so a second call replaces it). Without a stream of its
    own it writes to ``sys.stderr`` as it is when a record comes (tests swap it)."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self.fixed = stream is not None

    def emit(self, record):
        if not self.fixed:
            self.stream = sys.stderr
        super().emit(record)


def configure(config: dict | None = None, environ=None, stream=None) -> dict:
    """Set up the process's logging from ``config`` (see ``settings``); returns the settings.
    Also quietens nameko's records of expected worker failures (``shared.bus.refusals``)."""
    chosen = settings(config, environ)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    handler.setFormatter(FORMATTERS[chosen["format"]]())
    root.addHandler(handler)
    root.setLevel(chosen["level"])
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.ERROR)
    from shared.bus import refusals
    refusals.install()
    return chosen
