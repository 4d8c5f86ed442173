"""The gateway: the HTTP API of every installed service, with logins, roles and scopes, an
audit log, health, readiness and Prometheus metrics.

A nameko service like the others (``jiceng serve gateway``): its HTTP entrypoints hand each
request to ``dispatch.Gateway``, which calls the services by RPC with the caller in the RPC
context. Routes come from the services' own ``api`` tables (``shared.api``), so a new service
is on the API without a change here. It learns the organisation tree from the members
service's events to check scopes."""
import json
import time

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from services.gateway import (dispatch, metrics, open311, openapi, own, routing,
                              settings as settings_module)
from services.gateway.calling import Services
from services.gateway.entrypoints import http, public_first
from services.gateway.models import Base, Unit
from services.gateway.public_cache import PublicCache
from services.gateway.web import pages
from shared import plugins
from shared.bus import Store, subscribe
from shared.service import ServiceBase

METHODS = "GET,POST,PUT,PATCH,DELETE"
DEMO_PASSWORD = "jiceng-demo-2026"


class Settings(DependencyProvider):
    def setup(self):
        self.settings = settings_module.read(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.settings


class Api(DependencyProvider):
    """The URL map, the gateway's own operations and the OpenAPI document (built once)."""

    def setup(self):
        chosen = (self.container.config.get("gateway") or {}).get("services")
        if chosen is None:
            classes = plugins.services()
        else:
            classes = {name: plugins.service(name) for name in chosen}
            unknown = sorted(name for name, cls in classes.items() if cls is None)
            if unknown:
                raise ValueError(f"gateway.services: not installed: {', '.join(unknown)}")
        self.names = sorted(classes)
        self.service_routes = routing.service_routes(classes)
        self.url_map = routing.url_map(self.service_routes, reserved=own.RESERVED)
        self.own = own.OwnOperations()
        self.cache = PublicCache(settings_module.read(self.container.config)
                                 ["public_cache_seconds"],
                                 spawn=self.container.spawn_managed_thread)
        self.document = None
        self.dead_letters = ({}, 0.0)
        config = self.container.config
        self.amqp_uri = config["AMQP_URI"]
        self.queues = [name for spec in plugins.bus_participants(config, classes)[1]
                       for name in spec.queue_names]

    def openapi(self):
        if self.document is None:
            self.document = openapi.build(self.service_routes, self.own.described(),
                                          GatewayService.version)
        return self.document

    def get_dependency(self, worker_ctx):
        return self


class GatewayService(ServiceBase):
    name = "gateway"
    store = Store(Base.metadata)
    services = Services()
    settings = Settings()
    web = Api()

    @classmethod
    def load_demo_live(cls, config, cluster, scale=1.0):
        """Demo logins (printed by ``make run``): a county administrator, an auditor, and staff
        of the first township and village of the demo county."""
        from shared import config as config_module
        store = cls.store.handle(config_module.database_url(config, cls.name), source=cls.name)
        townships = cluster.members.list_townships()
        village = None
        if townships:
            below = cluster.members.list_subtree(townships[0]["id"])
            village = next((u for u in below if u["kind"] == "village_branch"), None)
        wanted = [("admin", "county_admin", None), ("auditor", "auditor", None)]
        if townships:
            wanted.append(("township", "township_staff", townships[0]["id"]))
        if village:
            wanted.append(("village", "village_cadre", village["id"]))
        created = demo_users(store, wanted)
        return {"logins": created, "password": DEMO_PASSWORD} if created else None

    @public_first(METHODS, "/api/v1/<path:path>")
    def api_v1(self, request, path):
        gateway = dispatch.Gateway(self.web.url_map, self.web.own, self.settings, self.services,
                                   self.store, self.web.cache)
        gateway.openapi = self.web.openapi
        return gateway.handle(request)

    @http("GET", "/")
    def home(self, request):
        return self._page("home", pages.home, request)

    @http("GET,POST", "/console/<path:section>")
    def page_console_section(self, request, section):
        return self._page("console_section", pages.console_section, request, section=section)

    @http("GET,POST", "/open311/<path:path>")
    def open311_api(self, request, path):
        """Open311 GeoReport v2 (``open311.py``), answered by the tickets service; a POST (a
        city system opening a ticket with its ``api_key``) is audited like every write."""
        request_id = dispatch.request_id_of(request)
        response = open311.handle(self.services, request, request_id)
        if request.method == "POST":
            dispatch.write_audit(self.store, request, {"user": "open311",
                                                       "role": "open311_client"},
                                 "tickets.open311_create", response.status_code, request_id)
        return response

    @http("GET", "/health")
    def live(self, request):
        return Response(json.dumps({"service": "gateway", "status": "ok"}),
                        mimetype="application/json")

    @http("GET", "/ready")
    def ready(self, request):
        reports = self._health_reports(timeout=3)
        ready = all(report.get("status") == "ok" for report in reports.values())
        return Response(json.dumps({"status": "ready" if ready else "not_ready",
                                    "services": reports}, ensure_ascii=False),
                        status=200 if ready else 503, mimetype="application/json")

    @http("GET", "/metrics")
    def metrics(self, request):
        families = metrics.bus_families(self._health_reports(timeout=3), self._dead_letters())
        return Response(metrics.exposition(families),
                        content_type="text/plain; version=0.0.4; charset=utf-8")

    # -- web pages (services/gateway/web): public boards, disclosures, ticket status, console ----
    def _page(self, label, handler, request, **values):
        gateway = dispatch.Gateway(self.web.url_map, self.web.own, self.settings, self.services,
                                   self.store)
        return pages.serve(label, handler, gateway, request, **values)

    @http("GET", "/boards")
    def page_boards(self, request):
        return self._page("boards", pages.board, request)

    @http("GET", "/gongkai/villages/<int:branch_id>")
    def page_village(self, request, branch_id):
        return self._page("village", pages.village, request, branch_id=branch_id)

    @http("GET", "/gongkai/villages/<int:branch_id>/records/<int:seq>")
    def page_record(self, request, branch_id, seq):
        return self._page("record", pages.record, request, branch_id=branch_id, seq=seq)

    @http("GET", "/ticket-status")
    def page_ticket(self, request):
        return self._page("ticket", pages.ticket, request)

    @http("GET,POST", "/console/login")
    def page_login(self, request):
        return self._page("login", pages.login, request)

    @http("POST", "/console/logout")
    def page_logout(self, request):
        return self._page("logout", pages.logout, request)

    @http("GET", "/console")
    def page_console(self, request):
        return self._page("console", pages.console, request)

    @http("GET,POST", "/console/activities")
    def page_activity(self, request):
        return self._page("activity", pages.activity, request)

    @http("GET", "/static/<path:name>")
    def page_static(self, request, name):
        return pages.static(request, name)

    @subscribe("members", "org_unit_created")
    def on_org_unit_created(self, event):
        self._learn_unit(event)

    @subscribe("members", "org_unit_changed")
    def on_org_unit_changed(self, event):
        self._learn_unit(event)

    def _learn_unit(self, event):
        data = event.data
        with self.store.handling(event) as session:
            session.merge(Unit(id=data["org_unit_id"], parent_id=data["parent_id"],
                               name=data["name"], kind=data["kind"]))

    def _health_reports(self, timeout):
        reports = {}
        for name in self.web.names:
            try:
                reports[name] = self.services.call(name, "health", {}, {}, timeout=timeout)
            except Exception as exc:  # a report, not a failure
                reports[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"}
        return reports

    def _dead_letters(self):
        """Depth of every dead-letter queue, read at most every 10 s."""
        from shared.bus import deadletters
        cached, at = self.web.dead_letters
        if time.monotonic() - at < 10:
            return cached
        depths = {}
        for queue in self.web.queues:
            try:
                depths[f"{queue}.dlq"] = deadletters.count(self.web.amqp_uri, queue)
            except Exception:  # a queue not declared yet has no dead letters to count
                continue
        self.web.dead_letters = (depths, time.monotonic())
        return depths


def demo_users(store, wanted) -> list[str]:
    from sqlalchemy import select

    from services.gateway import accounts, tokens
    from services.gateway.models import User
    created = []
    with store.transaction() as session:
        for username, role, unit_id in wanted:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                accounts.create_user(session, {"username": username, "display_name": username,
                                               "password": DEMO_PASSWORD, "role": role,
                                               "unit_id": unit_id}, tokens.utcnow())
                created.append(f"{username} ({role})")
    return created

