"""The tickets service's HTTP entrypoint (nameko ``@http``) on its own, configurable address.

nameko's ``WebServer`` listens on the container config's ``WEB_SERVER_ADDRESS`` (default
``0.0.0.0:8000``), one per process. The tickets service reads ``services.tickets.http_address``
instead (see ``settings``): ``config/dev.yaml`` says ``0.0.0.0:8311``; a config without it gets a
free port on 127.0.0.1, which is what tests want. The bound address is ``server.address``::

    from nameko.testing.utils import get_extension
    host, port = get_extension(container, TicketsWebServer).address
"""
from __future__ import annotations

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, parse_address

from services.tickets import settings as settings_module


class TicketsWebServer(WebServer):
    @property
    def bind_addr(self):
        runtime = settings_module.load(self.container.config)
        return parse_address(runtime.http_address)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return host, port


class TicketsHttp(HttpRequestHandler):
    server = TicketsWebServer()


http = TicketsHttp.decorator
