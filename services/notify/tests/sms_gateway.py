"""A tiny SMS gateway for the notify tests: answers ``status`` after ``delay`` seconds and
keeps each request (headers, JSON body)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    """A tiny SMS gateway: answers ``status`` after ``delay`` seconds and keeps each request."""

    def __init__(self, status=200, delay=0.0):
        self.status, self.delay, self.requests = status, delay, []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append((dict(self.headers), json.loads(body)))
                time.sleep(gateway.delay)
                self.send_response(gateway.status)
                if 300 <= gateway.status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                payload = b"busy" if gateway.status >= 400 else b"{}"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
