"""The notify service over the real RabbitMQ, on PostgreSQL and SQLite: signed webhooks that
survive a receiver refusing connections and then answering 503 for a while, messages to people
with a phone looked up by RPC and an SMS gateway that fails, the end-to-end chain members ->
stars -> notify -> an integrating system, the RPC refusals and the demo."""
import json
from datetime import date, timedelta

import pytest
from nameko.rpc import rpc
from nameko.testing.utils import get_extension

from services.members import resident_id
from services.members.service import MembersService
from services.notify.clock import Clock
from services.notify.receiver import Receiver
from services.notify.service import NotifyService
from services.stars.service import StarsService
from shared import migrate, plugins
from shared.bus.rpc import idempotent, rpc_client
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support.fixtures import make_config
from tests.support.running import services_running, wait_for
from tests.support.spy import EventSpy, publish_raw

from services.notify.tests.sms_gateway import Gateway

pytestmark = pytest.mark.integration
DAY = date.today() - timedelta(days=1)
FAST = {"sender": {"interval_seconds": 0.1},
        "retry": {"max_attempts": 30, "base_seconds": 2, "max_seconds": 5, "jitter": 0.5},
        "webhooks": {"timeout_seconds": 2}}


@pytest.fixture
def start(amqp_uri, db_url_factory, tmp_path):
    """A config for notify (+ the given services) on fresh databases of one backend."""
    registered = []

    def make(*classes, notify=None):
        urls = {}
        for cls in (NotifyService, *classes):
            if getattr(cls, "store", None) is not None:
                urls[cls.name] = db_url_factory()
                migrate.upgrade(cls, urls[cls.name])
        config = make_config(amqp_uri, urls)
        config["notify"] = {**FAST, "file": {"directory": str(tmp_path / "messages")},
                            **(notify or {})}
        plugins.register(NotifyService)
        registered.append("notify")
        return config

    yield make
    for name in registered:
        plugins.unregister(name)


def clock_of(runner) -> Clock:
    container = next(c for c in runner.containers if c.service_name == "notify")
    return get_extension(container, Clock)


class County:
    """A township, a village and members, over the members service's RPCs."""

    def __init__(self, members):
        self.members = members
        city = members.create_org_unit({"name": "黄骅市委", "kind": "city_committee",
                                        "parent_id": None})
        self.town = members.create_org_unit({"name": "旧城镇党委", "kind": "township_committee",
                                             "parent_id": city["id"]})
        self.village = members.create_org_unit({"name": "前辛庄村党支部",
                                                "kind": "village_branch",
                                                "parent_id": self.town["id"]})

    def member(self, number, name="王建国"):
        born = date(1980, 5, 17)
        return self.members.register_member({
            "name": name, "gender": "male", "ethnicity": "汉族", "birth_date": born.isoformat(),
            "resident_id": resident_id.make("130983", born, number, "male"),
            "phone": "13812345678", "education": "senior_secondary", "join_date": "2005-07-01",
            "status": "full", "household_plaque": True, "branch_id": self.village["id"]})["id"]

    def volunteer(self, member_id, hours):
        return self.members.record_activity({
            "member_id": member_id, "kind": "volunteer_service", "occurred_on": DAY.isoformat(),
            "hours": str(hours), "project": "暖心早餐"})


def log_of(notify, subscription_id):
    return notify.webhook_deliveries(subscription_id, offset=0, limit=1000)


# -- webhooks: a receiver down, then back -----------------------------------------------------------

def test_every_event_reaches_a_receiver_that_was_down_exactly_once_signed(start, amqp_uri):
    config = start(MembersService)
    receiver = Receiver(secret=None).start()
    port = receiver.port
    receiver.stop()                                              # phase 1: connections refused
    spy = EventSpy(amqp_uri, "members", name="notify-members-spy")
    try:
        with services_running(config, MembersService, NotifyService) as runner, \
                rpc_client(config) as cluster:
            clock, notify = clock_of(runner), cluster.notify
            created = notify.create_webhook({
                "url": f"http://127.0.0.1:{port}/jiceng-webhook",
                "event_types": ["members.member_registered", "members.activity_recorded"],
                "description": "政务服务大厅"})
            receiver = Receiver(secret=created["secret"], port=port)
            county = County(cluster.members)
            people = [county.member(n, name) for n, name in enumerate(("王建国", "李秀英", "张伟"), 1)]
            for person in people:
                county.volunteer(person, 2)
                county.volunteer(person, 3)
            expected = 9                                        # 3 registrations + 6 activities

            def all_tried(check):
                found = log_of(notify, created["id"])
                return len(found) == expected and all(any(check(a) for a in d["log"])
                                                      for d in found)

            wait_for(lambda: all_tried(lambda a: a["status_code"] is None), timeout=30,
                     message="every delivery refused at least once")
            receiver.status = 503                               # phase 2: up, but unavailable
            receiver.start()
            clock.advance(timedelta(minutes=1))
            wait_for(lambda: all_tried(lambda a: a["status_code"] == 503), timeout=30,
                     message="every delivery answered 503 at least once")
            assert receiver.deliveries == []
            receiver.status = 200                               # phase 3: back
            clock.advance(timedelta(minutes=1))
            wait_for(lambda: all(d["status"] == "delivered" for d in log_of(notify, created["id"])),
                     timeout=30, message="every delivery delivered")

            published = {e["id"] for e in spy.drain()
                         if e["type"] in ("member_registered", "activity_recorded")}
            assert len(published) == expected
            assert receiver.counts() == {event_id: 1 for event_id in published}
            assert receiver.refused == []                       # every signature verified
            final = log_of(notify, created["id"])
            for delivery in final:
                codes = [a["status_code"] for a in delivery["log"]]
                assert codes[-1] == 200 and None in codes and 503 in codes
                assert delivery["attempts"] == len(codes) and delivery["last_status_code"] == 200
                refused = next(a for a in delivery["log"] if a["status_code"] is None)
                assert "ConnectionError" in refused["error"] and len(refused["error"]) <= 200
            taken = receiver.deliveries[0]
            assert taken.event_type in ("members.member_registered", "members.activity_recorded")
            assert taken.envelope["source"] == "members" and taken.envelope["id"] == taken.event_id
    finally:
        receiver.stop()
        spy.close()


def test_a_failed_delivery_of_a_disabled_subscription_is_not_replayed(start):
    config = start(notify={"retry": {"max_attempts": 2, "base_seconds": 0.05, "max_seconds": 0.05,
                                     "jitter": 0}})
    receiver = Receiver(secret=None).start()
    receiver.status = 500
    try:
        with services_running(config, NotifyService), rpc_client(config) as cluster:
            notify = cluster.notify
            created = notify.create_webhook({"url": receiver.url,
                                             "event_types": ["tickets.sla_breached"]})
            receiver.secret = created["secret"]
            contract = registry.get("tickets", "sla_breached")
            publish_raw(config, Envelope("sla_breached", "tickets",
                                         contract.to_wire(contract.schema.example)).to_wire(), "b-1")
            [failed] = wait_for(lambda: [d for d in log_of(notify, created["id"])
                                         if d["status"] == "failed"], message="a failed delivery")
            assert [a["status_code"] for a in failed["log"]] == [500, 500]
            assert notify.disable_webhook(created["id"])["active"] is False
            with pytest.raises(Conflict, match="disabled"):
                notify.replay_webhook_delivery(failed["id"])
            assert notify.get_webhook_delivery(failed["id"])["status"] == "failed"
    finally:
        receiver.stop()


def test_replay_brings_a_failed_delivery_to_a_receiver_that_is_back(start):
    config = start(notify={"retry": {"max_attempts": 2, "base_seconds": 0.05, "max_seconds": 0.05,
                                     "jitter": 0}})
    receiver = Receiver(secret=None).start()
    receiver.status = 503
    try:
        with services_running(config, NotifyService), rpc_client(config) as cluster:
            notify = cluster.notify
            created = notify.create_webhook({"url": receiver.url,
                                             "event_types": ["tickets.sla_breached"]})
            receiver.secret = created["secret"]
            contract = registry.get("tickets", "sla_breached")
            publish_raw(config, Envelope("sla_breached", "tickets",
                                         contract.to_wire(contract.schema.example)).to_wire(), "b-2")
            [failed] = wait_for(lambda: [d for d in log_of(notify, created["id"])
                                         if d["status"] == "failed"], message="a failed delivery")
            receiver.status = 200
            replayed = idempotent(notify, "replay-1").replay_webhook_delivery(failed["id"])
            assert replayed["status"] == "pending" and replayed["replays"] == 1
            assert idempotent(notify, "replay-1").replay_webhook_delivery(failed["id"]) == replayed
            done = wait_for(lambda: notify.get_webhook_delivery(failed["id"])["status"] == "delivered"
                            and notify.get_webhook_delivery(failed["id"]), message="delivered")
            assert [a["status_code"] for a in done["log"]] == [503, 503, 200]
            assert list(receiver.counts().values()) == [1]
    finally:
        receiver.stop()


# -- messages to people ---------------------------------------------------------------------------

class FakeTickets:
    """Stands in for the tickets service's ``get_ticket`` (the villager's phone)."""
    name = "tickets"

    @rpc
    def get_ticket(self, ticket_id):
        if ticket_id == 404:
            raise NotFound(f"ticket {ticket_id} does not exist")
        return {"id": ticket_id, "requester_phone": "138 1234 5678"}


def publish_ticket(config, type_, **changes):
    contract = registry.get("tickets", type_)
    data = contract.to_wire({**contract.schema.example, **changes})
    envelope = Envelope(type_, "tickets", data)
    publish_raw(config, envelope.to_wire(), envelope.id)
    return envelope.id


def test_a_ticket_message_finds_the_villager_by_rpc_and_survives_the_sms_gateway_failing(
        start, amqp_uri):
    gateway = Gateway(status=503)
    config = start(notify={"channel": "sms_http",
                           "sms_http": {"url": gateway.url, "timeout_seconds": 2, "token": "t0k"},
                           "retry": {"max_attempts": 2, "base_seconds": 0.05,
                                     "max_seconds": 0.05, "jitter": 0}})
    spy = EventSpy(amqp_uri, "notify", name="notify-spy")
    try:
        with services_running(config, NotifyService, FakeTickets), rpc_client(config) as cluster:
            notify = cluster.notify
            opened = publish_ticket(config, "ticket_opened", ticket_id=7)
            publish_ticket(config, "ticket_closed", ticket_id=404)
            [failed] = spy.wait_for("message_failed", timeout=20)
            assert failed["data"]["event_id"] == opened and failed["data"]["attempts"] == 2
            assert failed["data"]["last_error"].startswith("HTTP 503")
            assert "13812345678" not in json.dumps(failed)
            assert len(gateway.requests) == 2
            headers, body = gateway.requests[0]
            assert body["to"] == "13812345678" and "编号7" in body["text"]
            assert headers["Authorization"] == "Bearer t0k"
            skipped = wait_for(lambda: notify.list_messages(status="skipped"), message="skipped")
            assert skipped[0]["last_error"].startswith("no recipient: tickets.get_ticket(404)")
            gateway.status = 200
            [message] = notify.list_messages(status="failed")
            assert message["to"] == "138****5678"
            notify.replay_message(message["id"])
            wait_for(lambda: notify.list_messages(status="delivered"), message="delivered")
            assert len(gateway.requests) == 3
    finally:
        spy.close()
        gateway.close()


def test_the_file_adapter_writes_what_a_developer_reads(start, tmp_path):
    config = start()
    with services_running(config, NotifyService, FakeTickets), rpc_client(config) as cluster:
        publish_ticket(config, "ticket_resolved", ticket_id=8)
        wait_for(lambda: cluster.notify.list_messages(status="delivered"), message="delivered")
    [day] = (tmp_path / "messages").iterdir()
    [line] = day.read_text("utf-8").splitlines()
    written = json.loads(line)
    assert written["to"] == "13812345678" and written["template"] == "ticket_resolved"
    assert written["text"].startswith("【便民服务】您的事项（编号8）已由村便民服务站办结")


# -- end to end: an integrating system hears a star score change ------------------------------------

def test_an_activity_reaches_an_integrating_system_as_a_signed_score_change(start):
    config = start(MembersService, StarsService)
    receiver = Receiver(secret=None).start()
    try:
        with services_running(config, MembersService, StarsService, NotifyService), \
                rpc_client(config) as cluster:
            created = cluster.notify.create_webhook({"url": receiver.url,
                                                     "event_types": ["stars.score_changed"]})
            receiver.secret = created["secret"]
            county = County(cluster.members)
            person = county.member(1)
            county.volunteer(person, 4)

            def credited():
                return [t for t in receiver.deliveries
                        if t.envelope["data"]["subject_kind"] == "member"
                        and t.envelope["data"]["subject_id"] == person
                        and t.envelope["data"]["cause"] == "scored"]
            [taken] = wait_for(credited, timeout=30, message="the member's score change")
            assert taken.event_type == "stars.score_changed"
            assert float(taken.envelope["data"]["score"]) > 0
            assert receiver.refused == []
    finally:
        receiver.stop()


# -- RPC surface --------------------------------------------------------------------------------------

def test_rpcs_refuse_bad_input_check_the_callers_permission_and_write_once_per_key(start):
    config = start()
    with services_running(config, NotifyService), rpc_client(config) as cluster:
        notify = cluster.notify
        with pytest.raises(InvalidInput) as refused:
            notify.create_webhook({"url": "ftp://x", "event_types": ["nope.nothing"], "x": 1})
        assert set(refused.value.errors) == {"url", "event_types", "x"}
        with pytest.raises(InvalidInput) as refused:
            notify.webhook_deliveries(subscription_id="1", offset=-1, limit=10**6)
        assert set(refused.value.errors) == {"subscription_id"}
        with pytest.raises(NotFound):
            notify.get_webhook(41)
        payload = {"url": "https://hall.example.gov.cn/h", "event_types": ["*"]}
        first = idempotent(notify, "k-1").create_webhook(payload)
        assert idempotent(notify, "k-1").create_webhook(payload) == first
        assert len(notify.list_webhooks()) == 1
        assert notify.preview_templates()[0]["template"] == "ticket_opened"
        assert notify.health()["status"] == "ok"
        with rpc_client(config, context_data={"user": "cadre",
                                              "permissions": ["org.read"]}) as cadre:
            with pytest.raises(Forbidden):
                cadre.notify.list_webhooks()
        with rpc_client(config, context_data={"user": "admin",
                                              "permissions": ["webhooks.write"]}) as admin:
            assert admin.notify.create_webhook(payload)["created_by"] == "admin"


def test_the_demo_subscribes_its_local_receiver_once(start):
    config = start()
    with services_running(config, NotifyService), rpc_client(config) as cluster:
        summary = NotifyService.load_demo_live(config, cluster, scale=0.01)
        assert summary["url"] == "http://127.0.0.1:8099/jiceng-webhook"
        assert summary["secret"] in summary["watch_with"]
        assert NotifyService.load_demo_live(config, cluster, scale=0.01) is None
        [subscription] = cluster.notify.list_webhooks(include_disabled=True)
        assert subscription["event_types"] == ["affairs.matter_published",
                                               "tickets.ticket_resolved"]
