"""The notify service's webhook routes through the running gateway: a county administrator
subscribes a receiver over HTTP, a member registered over HTTP reaches it signed, its delivery
log is read over HTTP; a delivery that failed is replayed over HTTP; every other role is
refused every webhook route (403)."""
from datetime import date

import pytest
import requests

from gateway_http import county, running_gateway
from services.gateway.roles import COUNTY_WIDE, ROLES
from services.gateway.service import GatewayService
from services.members import resident_id
from services.members.service import MembersService
from services.notify.api import ROUTES as NOTIFY
from services.notify.receiver import Receiver
from services.notify.service import NotifyService
from shared.api import granted
from tests.support.running import wait_for

pytestmark = pytest.mark.integration
CLASSES = (MembersService, NotifyService, GatewayService)
MEMBER = {"name": "王建国", "gender": "male", "ethnicity": "汉族", "birth_date": "1980-05-17",
          "resident_id": "13098319800517011X", "join_date": "2005-07-01", "status": "full"}
FAST = {"sender": {"interval_seconds": 0.1},
        "retry": {"max_attempts": 2, "base_seconds": 1, "max_seconds": 1, "jitter": 0},
        "webhooks": {"timeout_seconds": 2}}


@pytest.fixture
def api(amqp_uri, pg_url_factory, tmp_path):
    notify = {"notify": {**FAST, "file": {"directory": str(tmp_path / "messages")}}}
    with running_gateway(amqp_uri, pg_url_factory, CLASSES, notify) as client:
        yield client


def deliveries(api, subscription_id, **params):
    answer = api.get(f"/api/v1/webhooks/{subscription_id}/deliveries", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_subscription_made_over_http_gets_signed_deliveries_and_replays(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    receiver = Receiver(secret=None).start()
    try:
        refused = api.post("/api/v1/webhooks", {"url": receiver.url, "event_types": []})
        assert refused.status_code == 400 and list(refused.json()["fields"]) == ["event_types"]
        refused = api.post("/api/v1/webhooks", {"url": "ftp://x",
                                                "event_types": ["members.member_registered"]})
        assert refused.status_code == 422 and "url" in refused.json()["fields"], refused.text
        created = api.post("/api/v1/webhooks", {"url": receiver.url,
                                                "event_types": ["members.member_registered"],
                                                "description": "政务服务大厅"})
        assert created.status_code == 201, created.text
        subscription = created.json()
        receiver.secret = subscription["secret"]
        assert "secret" not in api.get(f"/api/v1/webhooks/{subscription['id']}").json()

        assert api.post("/api/v1/members", {**MEMBER, "branch_id": village["id"]}
                        ).status_code == 201
        wait_for(lambda: [d["status"] for d in deliveries(api, subscription["id"])]
                 == ["delivered"], timeout=30, message="the registration delivered")
        assert len(receiver.deliveries) == 1 and receiver.refused == []
        assert receiver.deliveries[0].event_type == "members.member_registered"

        receiver.status = 500                       # the receiver breaks; the delivery fails
        second = api.post("/api/v1/members", {
            **MEMBER, "name": "李秀英", "gender": "female", "birth_date": "1990-03-02",
            "join_date": "2015-07-01",
            "resident_id": resident_id.make("130983", date(1990, 3, 2), 2, "female"),
            "branch_id": village["id"]})
        assert second.status_code == 201, second.text
        wait_for(lambda: deliveries(api, subscription["id"], status="failed"), timeout=30,
                 message="the second delivery failing")
        failed = deliveries(api, subscription["id"], status="failed")[0]
        receiver.status = 200
        replayed = requests.post(f"{api.base}/api/v1/webhooks/deliveries/{failed['id']}/replay",
                                 headers=api.headers(), timeout=15)
        assert replayed.status_code == 200, replayed.text
        wait_for(lambda: len(receiver.deliveries) == 2, timeout=30, message="the replay")
        assert receiver.refused == []
    finally:
        receiver.stop()


def test_only_roles_granting_webhooks_write_reach_the_webhook_routes(api):
    api.user("admin", "county_admin")
    api.login("admin")
    city, town, village, other = county(api)
    wrong = []
    for role in ROLES:
        api.user(f"u-{role}", role, None if role in COUNTY_WIDE else town["id"])
        api.login(f"u-{role}")
        for route in NOTIFY:
            path = "/api/v1" + route.path.replace("<int:subscription_id>", "999999") \
                .replace("<int:delivery_id>", "999999")
            status = requests.request(route.method, api.base + path, headers=api.headers(),
                                      json={} if route.body else None, timeout=15).status_code
            if (status == 403) == granted(ROLES[role], route.permission) or status >= 500:
                wrong.append(f"{role} {route.method} {route.path}: {status}")
    assert not wrong, "\n".join(wrong)
