"""The gateway's HTTP entrypoints: nameko's ``@http`` made cheaper per request.

``http`` is nameko's entrypoint without its per-request ``check_signature``
(``inspect.getcallargs``, a tenth of the CPU of a kept board read): each handler's arguments
are fixed by its own URL rule, which werkzeug has already matched.

``public_first`` also answers a repeat of a public read straight from the ``PublicCache``
(``PublicCache.rendered``), before nameko spawns a worker; anything else, and a kept answer
that is due for its refresh, goes to the handler as usual.
"""
from nameko.web.handlers import HttpRequestHandler

from services.gateway import dispatch


class Http(HttpRequestHandler):
    def check_signature(self, args, kwargs):
        return None


class PublicFirst(Http):
    """Finds the service's ``PublicCache`` (the dependency holding it as ``cache``) at start."""

    cache = None

    def start(self):
        super().start()
        self.cache = next((dependency.cache for dependency in self.container.dependencies
                           if getattr(dependency, "cache", None) is not None), None)

    def handle_request(self, request):
        if self.cache is not None:
            response = dispatch.kept_answer(self.cache, request)
            if response is not None:
                return response
        return super().handle_request(request)


http = Http.decorator
public_first = PublicFirst.decorator
