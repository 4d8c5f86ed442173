"""Open311 GeoReport v2 through the running gateway (``/open311/...``), answered by the running
tickets service: discovery, the service list, a city system's POST (audited), the request read
back, and the spec's error shape for a bad key (503 when tickets is gone: test_gateway_open311);
a POST retried with its ``Idempotency-Key`` opens one ticket."""
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from gateway_http import _up, free_port
from services.gateway.models import AuditEntry
from services.gateway.service import GatewayService
from services.tickets.service import TicketsService
from shared import migrate
from shared.bus import declare_all
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tickets" / "tests"))
from tickets_county import build  # noqa: E402

pytestmark = pytest.mark.integration
KEY = "key-of-the-city-hotline"
CLASSES = (TicketsService, GatewayService)


@pytest.fixture
def gateway(amqp_uri, pg_url_factory):
    urls = {cls.name: pg_url_factory() for cls in CLASSES}
    migrate.upgrade(GatewayService, urls["gateway"])
    county = build(urls["tickets"])
    port = free_port()
    config = make_config(amqp_uri, urls)
    config["bus"]["declare_topology"] = False
    declare_all(config, {cls.name: cls for cls in CLASSES})
    config["services"]["tickets"]["open311_api_keys"] = f"city-hotline:{KEY}"
    config.update(WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", max_workers=10,
                  bus={**config["bus"], "rpc_timeout_seconds": 3},
                  gateway={"services": ["tickets", "gateway"], "token_secret": "s" * 40})
    base = f"http://127.0.0.1:{port}"
    with services_running(config, GatewayService):
        with services_running(config, TicketsService):
            wait_for(lambda: _up(base), message="the gateway listening")
            yield base, county, urls


def test_a_city_system_opens_and_reads_a_ticket_through_the_gateway(gateway):
    base, county, urls = gateway
    discovery = requests.get(f"{base}/open311/discovery.json", timeout=10)
    assert discovery.status_code == 200, discovery.text
    assert discovery.headers["Content-Type"].startswith("application/json")
    services = requests.get(f"{base}/open311/v2/services.json", timeout=10).json()
    assert {"service_code", "service_name"} <= set(services[0])
    code = services[0]["service_code"]
    form = {"api_key": KEY, "service_code": code, "description": "路灯不亮，请派人修理",
            "first_name": "大爷", "last_name": "刘", "phone": "13812345678",
            "address_string": "旧城镇前辛庄村东街 12 号",
            "attribute[station]": str(county.station["id"])}
    created = requests.post(f"{base}/open311/v2/requests.json", data=form, timeout=10)
    assert created.status_code == 200, created.text
    number = created.json()[0]["service_request_id"]
    read = requests.get(f"{base}/open311/v2/requests/{number}.json", timeout=10)
    assert read.status_code == 200 and read.json()[0]["service_request_id"] == number
    assert read.headers["X-Request-Id"]

    refused = requests.post(f"{base}/open311/v2/requests.json", timeout=10,
                            data={**form, "api_key": "not-a-key"})
    assert refused.status_code == 403
    assert set(refused.json()[0]) == {"code", "description"}
    assert requests.get(f"{base}/open311/v2/nothing.json", timeout=10).status_code == 404

    store = GatewayService.store.handle(urls["gateway"], source="gateway")
    with store.reading() as session:
        audited = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "tickets.open311_create")).all()
        assert sorted(entry.status for entry in audited) == [200, 403]
        assert {entry.actor for entry in audited} == {"open311"}


def test_a_post_retried_with_its_idempotency_key_opens_one_ticket(gateway):
    base, county, urls = gateway
    code = requests.get(f"{base}/open311/v2/services.json", timeout=10).json()[0]["service_code"]
    form = {"api_key": KEY, "service_code": code, "description": "水管破裂",
            "phone": "13812345678", "address_string": "旧城镇前辛庄村西街 3 号",
            "attribute[station]": str(county.station["id"])}
    url = f"{base}/open311/v2/requests.json"

    def post(data, key):
        return requests.post(url, data=data, timeout=10, headers={"Idempotency-Key": key})
    first, again = post(form, "hotline-0042"), post(form, "hotline-0042")
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json() == again.json()
    other = post(form, "hotline-0043")
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]

    changed = post({**form, "description": "另一件事"}, "hotline-0042")
    assert changed.status_code == 400 and set(changed.json()[0]) == {"code", "description"}
    bad = post(form, "x" * 201)
    assert bad.status_code == 400
    assert bad.json() == [{"code": 400, "description":
                           "Idempotency-Key: must be 1 to 200 printable characters"}]
    listed = requests.get(url, timeout=10, params={"service_code": code}).json()
    numbers = {item["service_request_id"] for item in listed}
    assert first.json()[0]["service_request_id"] in numbers and len(numbers) == 2
