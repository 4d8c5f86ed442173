"""Channel adapters: how a message reaches a person. One per deployment (``notify.channel``).

An adapter has ``name`` and ``send(message) -> int | None`` (an HTTP status code, if any) and
raises ``SendFailed`` when the message did not go out; the sender then retries it with backoff.
Adding a channel (WeChat, a province's message platform): a class with these two members, a
name in ``settings.CHANNELS`` and its branch in ``build``.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import requests

from shared.logs import cut


class SendFailed(Exception):
    """A send did not succeed; ``status_code`` when an HTTP answer came back."""

    def __init__(self, reason: str, status_code: int | None = None):
        super().__init__(reason)
        self.status_code = status_code


@dataclass(frozen=True)
class Message:
    delivery_id: int
    to: str
    text: str
    template: str | None
    event_id: str
    event_type: str


class FileChannel:
    """Development: one JSON line per message in ``<directory>/messages-YYYY-MM-DD.jsonl``."""

    name = "file"
    _lock = threading.Lock()

    def __init__(self, directory, clock=lambda: datetime.now(timezone.utc)):
        self.directory = directory
        self.clock = clock

    def send(self, message: Message) -> None:
        now = self.clock()
        line = json.dumps({"at": now.isoformat(), "id": message.delivery_id, "to": message.to,
                           "text": message.text, "template": message.template,
                           "event_id": message.event_id, "event_type": message.event_type},
                          ensure_ascii=False)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"messages-{now.date().isoformat()}.jsonl"
            with self._lock, open(path, "a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise SendFailed(f"cannot write {self.directory}: {exc}") from None
        return None


class SmsHttpChannel:
    """An SMS gateway over HTTP: POST JSON ``{to, text, id, template, event_id, event_type}``
    (``id`` is notify's delivery id: a gateway that dedupes on it sends a retry once) with the
    configured headers and token; any 2xx answer is a success."""

    name = "sms_http"

    def __init__(self, config, post=requests.post):
        self.config = config
        self.post = post

    def headers(self) -> dict:
        found = {"Content-Type": "application/json; charset=utf-8",
                 "User-Agent": "Jiceng-Notify/1", **self.config.headers}
        if self.config.token:
            found[self.config.token_header] = f"{self.config.token_prefix}{self.config.token}"
        return found

    def send(self, message: Message) -> int:
        body = json.dumps({"to": message.to, "text": message.text, "id": message.delivery_id,
                           "template": message.template, "event_id": message.event_id,
                           "event_type": message.event_type}, ensure_ascii=False)
        return post_json(self.post, self.config.url, body.encode("utf-8"), self.headers(),
                         self.config.timeout_seconds)


def post_json(post, url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST ``body``; the status code of a 2xx answer, else ``SendFailed``. Redirects are not
    followed (a moved receiver is a failure to fix, not to chase)."""
    try:
        answer = post(url, data=body, headers=headers, timeout=(timeout, timeout),
                      allow_redirects=False, stream=True)
    except requests.Timeout:
        raise SendFailed(f"no answer within {timeout} s") from None
    except requests.RequestException as exc:
        raise SendFailed(f"{type(exc).__name__}: {cut(str(exc), 200)}") from None
    try:
        if not 200 <= answer.status_code < 300:
            raise SendFailed(f"HTTP {answer.status_code}: {cut(_start_of(answer), 120)}",
                             answer.status_code)
        return answer.status_code
    finally:
        answer.close()


def _start_of(answer, size=512) -> str:
    """The first bytes of an answer's body as text (a receiver's error page can be huge)."""
    try:
        return next(answer.iter_content(size), b"").decode("utf-8", "replace").strip()
    except requests.RequestException:
        return ""


def build(settings):
    """The adapter the deployment chose."""
    if settings.channel == "sms_http":
        return SmsHttpChannel(settings.sms_http)
    return FileChannel(settings.file_directory)
