"""A webhook receiver that verifies Jiceng's signatures: the reference for integrators, a tool
for developers and the receiver of the tests.

    .venv/bin/python -m services.notify.receiver --port 8099 --secret <the subscription's secret>

prints one line per delivery (verified or refused, with the reason). ``Receiver`` runs the same
server in a thread: ``start()``, ``stop()`` (connections are then refused), ``status = 503``
(answer every request with that status instead of taking it), ``deliveries`` (what was taken,
verified), ``refused`` (signature failures) and ``seen`` (every request, taken or not).
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.notify import signing

MAX_BODY = 5 * 1024 * 1024


@dataclass
class Taken:
    event_id: str
    event_type: str
    delivery_id: str
    envelope: dict
    received_at: float = field(default_factory=time.time)


class Receiver:
    def __init__(self, secret: str | None, host: str = "127.0.0.1", port: int = 0,
                 tolerance: float = signing.TOLERANCE_SECONDS, echo=None):
        self.secret, self.host, self.port, self.tolerance = secret, host, port, tolerance
        self.echo = echo
        self.status = 200          # answer taken deliveries with this; not 2xx: not taken
        self.deliveries: list[Taken] = []
        self.refused: list[str] = []
        self.seen: list[tuple[str, int]] = []     # (event id, status answered)
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/jiceng-webhook"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver._handle(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening: deliveries now meet a refused connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def counts(self) -> dict[str, int]:
        """Deliveries taken per event id."""
        with self._lock:
            found: dict[str, int] = {}
            for taken in self.deliveries:
                found[taken.event_id] = found.get(taken.event_id, 0) + 1
            return found

    def _handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(min(length, MAX_BODY))
        event_id = request.headers.get(signing.EVENT_ID, "")
        status = self.status
        if status == 200:
            try:
                if self.secret is not None:
                    signing.verify(self.secret, body, request.headers.get(signing.TIMESTAMP),
                                   request.headers.get(signing.SIGNATURE), time.time(),
                                   self.tolerance)
                envelope = json.loads(body)
                if envelope.get("id") != event_id:
                    raise signing.BadSignature("X-Jiceng-Event-Id is not the envelope's id")
            except (signing.BadSignature, ValueError) as exc:
                status = 400
                with self._lock:
                    self.refused.append(str(exc))
                self._say(f"refused {event_id}: {exc}")
            else:
                with self._lock:
                    self.deliveries.append(Taken(event_id, request.headers.get(
                        signing.EVENT_TYPE, ""), request.headers.get(signing.DELIVERY_ID, ""),
                        envelope))
                self._say(f"{request.headers.get(signing.EVENT_TYPE)} {event_id}: "
                          f"{json.dumps(envelope.get('data'), ensure_ascii=False)}")
        with self._lock:
            self.seen.append((event_id, status))
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _say(self, line):
        if self.echo:
            self.echo(line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", help="the subscription's secret (without: not verified)")
    args = parser.parse_args(argv)
    receiver = Receiver(args.secret, args.host, args.port, echo=print).start()
    print(f"listening on {receiver.url} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
