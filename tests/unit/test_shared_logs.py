"""``shared.logs``: payloads cut with their size, repeating trouble summarised, text and JSON
lines, configuration from the config and the environment. No broker, no database."""
import io
import json
import logging

import pytest

from shared import logs
from shared.bus import refusals


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in logs.NOISY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in noisy.items():
        logging.getLogger(name).setLevel(old)


def test_short_values_are_kept_and_long_ones_cut_with_their_size():
    assert logs.cut("short") == "short"
    assert logs.cut({"a": 1}) == "{'a': 1}"
    text = "党员" * 500                                  # 1,000 characters, 3,000 bytes
    cut = logs.cut(text)
    assert cut == "党员" * 100 + "... (3,000 bytes)"
    raw = b"x" * 12_345
    assert logs.cut(raw, 10) == "b'xxxxxxxx... (12,345 bytes)"
    assert len(logs.cut(list(range(10_000)))) < 230


def test_an_error_is_one_short_line_with_its_type():
    error = ValueError("first line\n\n  second line " + "y" * 1000)
    said = logs.describe(error)
    assert said.startswith("ValueError: first line second line yyy")
    assert "\n" not in said and said.endswith(" bytes)") and len(said) < 240
    from sqlalchemy import exc as db_errors
    refused = db_errors.OperationalError("SELECT 1", {}, Exception("refused"))
    assert logs.describe(refused) == "OperationalError: (builtins.Exception) refused [SQL: SELECT 1]"


def test_a_traceback_keeps_its_lines_but_cuts_each():
    try:
        raise RuntimeError("INSERT INTO t VALUES " + "(%s, %s), " * 2000)
    except RuntimeError as exc:
        text = logs.traceback_text((type(exc), exc, exc.__traceback__))
    lines = text.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1].startswith("RuntimeError: INSERT INTO t VALUES") and lines[-1].endswith("bytes)")
    assert max(len(line) for line in lines) <= logs.TRACEBACK_LINE_LIMIT + 20


def test_a_throttle_admits_a_burst_per_window_then_says_how_many_it_kept_quiet():
    clock = Clock()
    throttle = logs.Throttle(burst=2, window=30, clock=clock)
    assert [throttle.admit("k") for _ in range(5)] == [0, 0, None, None, None]
    assert throttle.admit("other") == 0                 # keys are counted apart
    clock.now += 30
    assert throttle.admit("k") == 3                     # the three it kept quiet
    assert throttle.admit("k") == 0 and throttle.admit("k") is None


def test_a_repeating_condition_is_a_line_when_it_starts_one_per_window_and_one_when_it_ends(caplog):
    caplog.set_level(logging.DEBUG, logger="test.repeating")
    clock = Clock()
    trouble = logs.Repeating(logging.getLogger("test.repeating"), "relay pass", window=30,
                             clock=clock, consumer="stars.on_events")
    trouble.succeeded()                                  # nothing was wrong: nothing said
    for _ in range(800):                                 # eight failures a second for 100 s
        trouble.failed(OSError("connection refused"), "next try in 0.5 s")
        clock.now += 0.125
    trouble.succeeded()
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert said[0] == ("WARNING", "relay pass failed: OSError: connection refused; next try in 0.5 s")
    assert [level for level, _ in said] == ["WARNING"] * 4 + ["INFO"]
    assert said[1][1] == ("relay pass still failing (240 times in the last 30 s): "
                          "OSError: connection refused; next try in 0.5 s")
    assert said[-1][1] == "relay pass recovered after 800 failures over 100.0 s"
    assert all(r.exc_info is None and r.consumer == "stars.on_events" for r in caplog.records)


def record(message="hello %s", args=("world",), exc_info=None, **extra):
    made = logging.LogRecord("shared.bus.failures", logging.WARNING, __file__, 1, message, args,
                             exc_info)
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_time_level_logger_message_extras_and_traceback():
    formatter = logs.JsonFormatter()
    line = json.loads(formatter.format(record(consumer="stars.on_events", event_id="e1",
                                              attempt=2)))
    assert {k: line[k] for k in ("level", "logger", "message", "consumer", "event_id",
                                 "attempt")} == {
        "level": "WARNING", "logger": "shared.bus.failures", "message": "hello world",
        "consumer": "stars.on_events", "event_id": "e1", "attempt": 2}
    assert line["time"].endswith("+00:00") and "traceback" not in line
    try:
        raise KeyError("k")
    except KeyError as exc:
        failed = json.loads(formatter.format(record(exc_info=(KeyError, exc, exc.__traceback__))))
    assert failed["traceback"].splitlines()[-1] == "KeyError: 'k'"
    huge = json.loads(formatter.format(record("%s", ("z" * 50_000,))))
    assert len(huge["message"]) < logs.MESSAGE_LIMIT + 30 and huge["message"].endswith("bytes)")


def test_text_lines_are_cut_as_a_last_resort():
    text = logs.TextFormatter().format(record("%s", ("z" * 50_000,)))
    assert "WARNING shared.bus.failures: zzz" in text and text.endswith("(50,000 bytes)")


def test_settings_come_from_the_config_and_the_environment_wins():
    config = {"logging": {"format": "json", "level": "warning"}}
    assert logs.settings(config, {}) == {"format": "json", "level": "WARNING"}
    assert logs.settings(config, {"LOG_FORMAT": "text", "LOG_LEVEL": "debug"}) == {
        "format": "text", "level": "DEBUG"}
    assert logs.settings({}, {}) == {"format": "text", "level": "INFO"}
    with pytest.raises(ValueError, match="logging.format"):
        logs.settings({"logging": {"format": "xml"}}, {})
    with pytest.raises(ValueError, match="logging.level"):
        logs.settings({}, {"LOG_LEVEL": "LOUD"})


def test_configure_installs_one_handler_the_chosen_format_and_the_refusal_filter(restore_logging):
    first, second = io.StringIO(), io.StringIO()
    logs.configure({"logging": {"format": "text"}}, {}, stream=first)
    chosen = logs.configure({"logging": {"format": "json", "level": "INFO"}}, {}, stream=second)
    assert chosen == {"format": "json", "level": "INFO"}
    assert sum(isinstance(h, logs._Handler) for h in logging.getLogger().handlers) == 1
    logging.getLogger("test.configure").info("ready", extra={"service": "stars"})
    logging.getLogger("test.configure").debug("not at INFO")
    assert first.getvalue() == ""
    [line] = second.getvalue().splitlines()
    assert json.loads(line)["message"] == "ready" and json.loads(line)["service"] == "stars"
    assert logging.getLogger("amqp").level == logging.ERROR
    assert any(isinstance(f, refusals.WorkerErrors)
               for f in logging.getLogger(refusals.NAMEKO_LOGGER).filters)
