"""A running members + stars + gateway on the real RabbitMQ, and an HTTP client for it
(imported by the gateway's HTTP tests)."""
import socket
from contextlib import contextmanager

import pytest
import requests

from services.gateway import accounts
from services.gateway.service import GatewayService
from services.members.service import MembersService
from services.stars.service import StarsService
from shared import migrate
from shared.bus import declare_all
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_gateway(amqp_uri, url_factory, classes, config_changes=None, **gateway_settings):
    """``classes`` (the gateway among them) running on fresh databases from ``url_factory``,
    their topology declared; yields the HTTP ``Client`` of the gateway, with ``config`` and
    ``urls`` (each service's database). ``config_changes`` are merged into the config;
    ``gateway_settings`` into its ``gateway:`` section."""
    urls = {cls.name: url_factory() for cls in classes}
    for cls in classes:
        migrate.upgrade(cls, urls[cls.name])
    port = free_port()
    config = make_config(amqp_uri, urls)
    config["bus"]["declare_topology"] = False
    declare_all(config, {cls.name: cls for cls in classes})
    config.update(WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", max_workers=20,
                  gateway={"services": [cls.name for cls in classes],
                           "token_secret": "s" * 40, "login": {"max_failures": 3},
                           **gateway_settings})
    config.update(config_changes or {})
    with services_running(config, *classes):
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(base), message="the gateway listening")
        client = Client(base, urls["gateway"])
        client.config, client.urls = config, urls
        yield client


@pytest.fixture
def api(amqp_uri, pg_url_factory, request):
    """members + stars + gateway running on PostgreSQL; a test module's ``GATEWAY_SETTINGS``
    (dict) is merged into the gateway's settings. (HTTP tests run on PostgreSQL, the
    production database; the services' own tests run on both, and ``test_gateway_api`` runs
    the gateway on SQLite too, as ``make run`` does.)"""
    with running_gateway(amqp_uri, pg_url_factory,
                         (MembersService, StarsService, GatewayService),
                         **getattr(request.module, "GATEWAY_SETTINGS", {})) as client:
        yield client


def _up(base):
    try:
        return requests.get(base + "/health", timeout=1).ok
    except requests.ConnectionError:
        return False


class Client:
    def __init__(self, base, gateway_url):
        self.base = base
        self.store = GatewayService.store.handle(gateway_url, source="gateway")
        self.token = None

    def user(self, username, role, unit_id=None):
        from services.gateway.tokens import utcnow
        with self.store.transaction() as session:
            accounts.create_user(session, {"username": username, "display_name": username,
                                           "password": PASSWORD, "role": role,
                                           "unit_id": unit_id}, utcnow())

    def login(self, username, password=PASSWORD):
        answer = self.post("/api/v1/auth/login", {"username": username, "password": password})
        if answer.status_code == 200:
            self.token = answer.json()["access_token"]
        return answer

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path, **params):
        return requests.get(self.base + path, params=params, headers=self.headers(), timeout=15)

    def post(self, path, body, headers=None):
        return requests.post(self.base + path, json=body, headers=self.headers(headers),
                             timeout=15)

    def patch(self, path, body):
        return requests.patch(self.base + path, json=body, headers=self.headers(), timeout=15)




def known_units(api, count):
    from sqlalchemy import func, select

    from services.gateway.models import Unit
    with api.store.reading() as session:
        return session.scalar(select(func.count()).select_from(Unit)) >= count


def county(api):
    """A city, two townships and a village, created through the API by the logged-in user."""
    city = api.post("/api/v1/org-units", {"name": "黄骅市委", "kind": "city_committee",
                                          "parent_id": None})
    assert city.status_code == 201, city.text
    town = api.post("/api/v1/org-units", {"name": "旧城镇党委", "kind": "township_committee",
                                          "parent_id": city.json()["id"]}).json()
    village = api.post("/api/v1/org-units", {"name": "前辛庄村党支部", "kind": "village_branch",
                                             "parent_id": town["id"]}).json()
    other = api.post("/api/v1/org-units", {"name": "南排河镇党委", "kind": "township_committee",
                                           "parent_id": city.json()["id"]}).json()
    wait_for(lambda: known_units(api, 4), message="the gateway learning the org tree")
    return city.json(), town, village, other
