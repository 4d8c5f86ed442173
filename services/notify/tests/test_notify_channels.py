"""Channel adapters: the file adapter's JSON lines, the SMS gateway's requests and how HTTP
answers and faults become successes or failed attempts (against a real local HTTP server)."""
import json
import socket
import time
from datetime import datetime, timezone

import pytest

from services.notify import channels
from services.notify.settings import SmsHttp
from services.notify.tests.sms_gateway import Gateway

MESSAGE = channels.Message(41, "13812345678", "【便民服务】您的事项已办结。", "ticket_resolved",
                           "e-1", "tickets.ticket_resolved")


@pytest.fixture
def gateway():
    made = []

    def make(**kwargs):
        made.append(Gateway(**kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def sms(url, **changes):
    config = dict(url=url, timeout_seconds=1, headers={"X-App": "jiceng"}, token="t0k",
                  token_header="Authorization", token_prefix="Bearer ")
    return channels.SmsHttpChannel(SmsHttp(**{**config, **changes}))


def test_the_file_adapter_writes_one_json_line_per_message_per_day(tmp_path):
    clock = lambda: datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)  # noqa: E731
    adapter = channels.FileChannel(tmp_path / "out", clock)
    adapter.send(MESSAGE)
    adapter.send(MESSAGE)
    lines = (tmp_path / "out" / "messages-2026-11-27.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0]) == {"at": "2026-11-27T09:30:00+00:00", "id": 41,
                                    "to": "13812345678", "text": MESSAGE.text,
                                    "template": "ticket_resolved", "event_id": "e-1",
                                    "event_type": "tickets.ticket_resolved"}


def test_the_file_adapter_fails_when_it_cannot_write(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(channels.SendFailed, match="cannot write"):
        channels.FileChannel(tmp_path / "taken").send(MESSAGE)


def test_the_sms_adapter_posts_json_with_the_configured_headers_and_token(gateway):
    server = gateway()
    assert sms(server.url).send(MESSAGE) == 200
    headers, body = server.requests[0]
    assert body == {"to": "13812345678", "text": MESSAGE.text, "id": 41,
                    "template": "ticket_resolved", "event_id": "e-1",
                    "event_type": "tickets.ticket_resolved"}
    assert headers["Authorization"] == "Bearer t0k" and headers["X-App"] == "jiceng"
    assert headers["Content-Type"].startswith("application/json")


def test_no_token_no_authorization_header(gateway):
    server = gateway()
    sms(server.url, token=None).send(MESSAGE)
    assert "Authorization" not in server.requests[0][0]


@pytest.mark.parametrize("status", [503, 400, 302])
def test_an_answer_other_than_2xx_is_a_failure_with_its_status(gateway, status):
    server = gateway(status=status)
    with pytest.raises(channels.SendFailed) as failed:
        sms(server.url).send(MESSAGE)
    assert failed.value.status_code == status and f"HTTP {status}" in str(failed.value)
    assert len(server.requests) == 1          # a redirect is not followed


def test_a_slow_gateway_is_a_timeout_failure(gateway):
    server = gateway(delay=2.0)
    started = time.monotonic()
    with pytest.raises(channels.SendFailed, match="no answer within 0.3 s"):
        sms(server.url, timeout_seconds=0.3).send(MESSAGE)
    assert time.monotonic() - started < 1.5


def test_a_refused_connection_is_a_failure_without_status():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(channels.SendFailed) as failed:
        sms(f"http://127.0.0.1:{port}/send").send(MESSAGE)
    assert failed.value.status_code is None and "ConnectionError" in str(failed.value)
