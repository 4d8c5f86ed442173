"""The notify service layer on a real session (no broker), on PostgreSQL and SQLite: events in,
deliveries recorded; the sender's rounds with a clock the test moves; the logs and replays."""
import json
from dataclasses import replace
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from services.notify import channels, deliveries, intake, sender, signing, subscriptions
from services.notify import settings as settings_module
from services.notify.backoff import Policy
from services.notify.models import Attempt, Delivery
from services.notify.service import NotifyService
from shared import migrate
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from shared.errors import Conflict, NotFound

START = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
VILLAGE = {"org_unit_id": 12, "parent_id": 2, "township_id": 2, "kind": "village_branch",
           "name": "前辛庄村党支部"}


class Clock:
    def __init__(self, moment=START):
        self.moment = moment

    def __call__(self):
        return self.moment

    def advance(self, **delta):
        self.moment += timedelta(**delta)


class Phones:
    """A fake ``Lookups``: answers per (service, method, argument); raises what it is given."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, service, method, argument):
        self.calls.append((service, method, argument))
        answer = self.answers[(service, method, argument)]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Outbox:
    """A fake channel adapter: keeps messages, or fails while ``down``."""

    name = "sms_http"

    def __init__(self):
        self.sent, self.down = [], False

    def send(self, message):
        if self.down:
            raise channels.SendFailed("HTTP 503: busy", 503)
        self.sent.append(message)
        return 200


class Receiver:
    """A fake ``requests.post`` for webhooks: verifies the signature; answers ``status``."""

    class Answer:
        def __init__(self, status):
            self.status_code = status

        def iter_content(self, size):
            return iter([b"unavailable"])

        def close(self):
            pass

    def __init__(self, secret=None):
        self.secret, self.status, self.taken = secret, 200, []

    def __call__(self, url, data, headers, timeout, allow_redirects, stream):
        if self.status != 200:
            return self.Answer(self.status)
        signing.verify(self.secret, data, headers[signing.TIMESTAMP], headers[signing.SIGNATURE],
                       now=__import__("time").time())
        self.taken.append((url, headers, json.loads(data)))
        return self.Answer(200)


def event(source, type_, **changes):
    contract = registry.get(source, type_)
    data = contract.load({**contract.schema.example, **changes})
    return Envelope(type_, source, data, occurred_at=START.isoformat())


@pytest.fixture
def store(db_url_factory):
    url = db_url_factory()
    migrate.upgrade(NotifyService, url)
    return NotifyService.store.handle(url, source="notify")


def fast(**overrides):
    loaded = settings_module.load({"notify": {"contacts": {"12": [
        {"phone": "13800000012", "name": "村务公开联络员"}, "13800000013"]}, **overrides}})
    return replace(loaded, retry=Policy(max_attempts=3, base_seconds=10, max_seconds=60,
                                        jitter=0.0))


def handle(store, settings, events, now=START):
    with store.handling_batch(events, consumer="notify.on_events") as (session, fresh):
        return intake.record(session, settings, fresh, now)


def rows(store, **where):
    with store.reading() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return [SimpleNamespace(**{c.key: getattr(row, c.key) for c in Delivery.__table__.c})
                for row in session.scalars(query)]


def subscribe(store, url="http://hall.example/hook", types=("tickets.sla_breached",), **more):
    with store.transaction() as session:
        return subscriptions.create(session, {"url": url, "event_types": list(types), **more},
                                    START, "admin", max_active=5)


def run(store, settings, clock, lookup=None, channel=None, post=None):
    return sender.run_once(store, settings, channel or Outbox(), lookup or Phones({}), clock,
                           post=post or Receiver())


# -- events in ----------------------------------------------------------------------------------

def test_events_become_messages_for_their_templates_with_learned_unit_names(store):
    settings = fast()
    counts = handle(store, settings, [event("members", "org_unit_created", **VILLAGE),
                                      event("affairs", "matter_published", branch_id=12),
                                      event("tickets", "ticket_resolved", ticket_id=7)])
    assert counts == {"messages": 3, "skipped": 0, "webhooks": 0}
    village = rows(store, template="matter_published")
    assert [(r.recipient, r.recipient_name) for r in village] == [
        ("13800000012", "村务公开联络员"), ("13800000013", None)]
    assert village[0].body.startswith("【村务公开】前辛庄村党支部的决议已于2026年3月21日公开")
    villager = rows(store, template="ticket_resolved")[0]
    assert villager.recipient is None and json.loads(villager.lookup) == {
        "service": "tickets", "method": "get_ticket", "value": 7, "phone_field": "requester_phone"}
    assert villager.status == "pending" and villager.branch_id == 12 and villager.township_id == 2


def test_a_message_with_nobody_to_send_to_is_kept_as_skipped_and_logged_at_debug(store, caplog):
    """A demo county's thousands of publications without a contact would bury the log: each
    is one DEBUG line (and kept with its reason); the service logs one INFO count per batch."""
    caplog.set_level("DEBUG", logger="services.notify.intake")
    handle(store, fast(), [event("affairs", "matter_published", branch_id=99, township_id=98)])
    [skipped] = rows(store)
    assert (skipped.status, skipped.last_error) == ("skipped", "no recipient")
    lines = [r for r in caplog.records if "has no recipient" in r.getMessage()]
    assert [r.levelname for r in lines] == ["DEBUG"]


def test_a_stale_event_is_not_turned_into_a_message(store):
    handle(store, fast(), [event("tickets", "ticket_opened")], now=START + timedelta(days=4))
    [stale] = rows(store)
    assert stale.status == "skipped" and stale.last_error.startswith("stale")


def test_a_redelivered_event_records_nothing_twice(store):
    once = event("tickets", "ticket_closed")
    handle(store, fast(), [once])
    handle(store, fast(), [once, once])
    assert len(rows(store)) == 1


def test_each_matching_subscription_gets_the_envelope_as_plain_json(store):
    wanted = subscribe(store, types=["tickets.ticket_resolved"])
    subscribe(store, url="http://other.example/hook", types=["affairs.matter_published"])
    everything = subscribe(store, url="http://all.example/hook", types=["*"], township_id=3)
    resolved = event("tickets", "ticket_resolved", township_id=3)
    handle(store, fast(), [resolved, event("members", "member_left")])
    hooks = rows(store, kind="webhook")
    assert [r.subscription_id for r in hooks] == [wanted["id"], everything["id"]]
    body = json.loads(hooks[0].body)
    assert body["id"] == resolved.id and body["source"] == "tickets"
    assert body["data"]["occurred_on"] == "2026-10-09" and body["data"]["ticket_id"] == 7


# -- subscriptions ------------------------------------------------------------------------------

def test_subscriptions_are_created_listed_disabled_and_bounded(store):
    created = subscribe(store, description="政务服务大厅")
    assert len(created["secret"]) >= 40 and created["created_by"] == "admin"
    with store.reading() as session:
        listed = subscriptions.listing(session, 0, 10, include_disabled=False)
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    with store.transaction() as session:
        disabled = subscriptions.disable(session, created["id"], START)
        assert subscriptions.disable(session, created["id"], START) == disabled
    assert disabled["active"] is False and disabled["disabled_at"] is not None
    with store.reading() as session:
        assert subscriptions.listing(session, 0, 10, include_disabled=False) == []
        assert len(subscriptions.listing(session, 0, 10, include_disabled=True)) == 1
        with pytest.raises(NotFound):
            subscriptions.get(session, 999)
    for _ in range(5):
        subscribe(store)
    with pytest.raises(Conflict, match="at most 5"):
        subscribe(store)


# -- the sender ---------------------------------------------------------------------------------

def test_a_down_receiver_gets_retries_with_backoff_until_it_is_back(store):
    settings, clock = fast(), Clock()
    subscription = subscribe(store)
    handle(store, settings, [event("tickets", "sla_breached")])
    receiver = Receiver(subscription["secret"])
    receiver.status = 503
    assert run(store, settings, clock, post=receiver)["retrying"] == 1
    [pending] = rows(store, kind="webhook")
    assert pending.attempts == 1 and pending.last_status_code == 503
    assert _aware(pending.next_attempt_at) == START + timedelta(seconds=10)
    clock.advance(seconds=9)
    assert run(store, settings, clock, post=receiver) == {}          # not due yet
    clock.advance(seconds=1)
    assert run(store, settings, clock, post=receiver)["retrying"] == 1
    assert _aware(rows(store, kind="webhook")[0].next_attempt_at) == \
        clock() + timedelta(seconds=20)
    receiver.status = 200
    clock.advance(seconds=20)
    assert run(store, settings, clock, post=receiver)["delivered"] == 1
    assert len(receiver.taken) == 1
    url, headers, body = receiver.taken[0]
    assert headers[signing.EVENT_TYPE] == "tickets.sla_breached"
    assert headers[signing.EVENT_ID] == body["id"]
    with store.reading() as session:
        [logged] = deliveries.webhook_log(session, subscription["id"], 0, 10, None)
    assert logged["status"] == "delivered" and logged["attempts"] == 3
    assert [a["status_code"] for a in logged["log"]] == [503, 503, 200]
    assert [a["ok"] for a in logged["log"]] == [False, False, True]
    assert logged["log"][0]["error"].startswith("HTTP 503")


def test_a_delivery_failing_every_attempt_is_failed_then_replayed(store):
    settings, clock = fast(), Clock()
    subscription = subscribe(store)
    handle(store, settings, [event("tickets", "sla_breached")])
    receiver = Receiver(subscription["secret"])
    receiver.status = 500
    for _ in range(3):
        run(store, settings, clock, post=receiver)
        clock.advance(minutes=5)
    [failed] = rows(store, kind="webhook")
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 3, None)
    assert run(store, settings, clock, post=receiver) == {}
    with store.transaction() as session:
        replayed = deliveries.replay(session, failed.id, "webhook", clock())
        with pytest.raises(NotFound):
            deliveries.replay(session, failed.id, "message", clock())
    assert replayed["status"] == "pending" and replayed["replays"] == 1
    with pytest.raises(Conflict, match="only a failed delivery"):
        with store.transaction() as session:
            deliveries.replay(session, failed.id, "webhook", clock())
    receiver.status = 200
    assert run(store, settings, clock, post=receiver)["delivered"] == 1
    with store.reading() as session:
        assert len(deliveries.webhook_delivery(session, failed.id)["log"]) == 4


def test_deliveries_of_a_disabled_subscription_are_cancelled(store):
    settings, clock = fast(), Clock()
    subscription = subscribe(store)
    handle(store, settings, [event("tickets", "sla_breached")])
    with store.transaction() as session:
        subscriptions.disable(session, subscription["id"], START)
    receiver = Receiver(subscription["secret"])
    assert run(store, settings, clock, post=receiver)["cancelled"] == 1
    assert rows(store, kind="webhook")[0].status == "cancelled" and receiver.taken == []
    handle(store, settings, [event("tickets", "sla_breached")])
    assert len(rows(store, kind="webhook")) == 1          # nothing recorded for it any more


def test_messages_look_up_the_villager_then_go_through_the_channel(store):
    settings, clock, channel = fast(), Clock(), Outbox()
    handle(store, settings, [event("tickets", "ticket_opened", ticket_id=7),
                             event("tickets", "ticket_closed", ticket_id=8),
                             event("tickets", "ticket_resolved", ticket_id=9)])
    phones = Phones({("tickets", "get_ticket", 7): {"requester_phone": "１３８１２３４５６７８"},
                     ("tickets", "get_ticket", 8): NotFound("ticket 8 does not exist"),
                     ("tickets", "get_ticket", 9): {"requester_phone": None}})
    counts = run(store, settings, clock, lookup=phones, channel=channel)
    assert counts["delivered"] == 1 and counts["skipped"] == 2
    [message] = channel.sent
    assert message.to == "13812345678" and "编号7" in message.text
    opened, closed, resolved = rows(store)
    assert opened.status == "delivered" and opened.recipient == "13812345678"
    assert closed.last_error.startswith("no recipient: tickets.get_ticket(8) found nothing")
    assert resolved.last_error == "no recipient: tickets.get_ticket(9) has no requester_phone"
    with store.reading() as session:
        shown = deliveries.messages(session, 0, 10, "delivered", None)
    assert shown[0]["to"] == "138****5678" and shown[0]["template"] == "ticket_opened"


def test_a_failing_lookup_or_channel_is_retried_and_a_given_up_message_is_published(store):
    settings, clock, channel = fast(), Clock(), Outbox()
    handle(store, settings, [event("tickets", "ticket_opened", ticket_id=7)])
    phones = Phones({("tickets", "get_ticket", 7): TimeoutError("tickets gave no answer")})
    assert run(store, settings, clock, lookup=phones, channel=channel)["retrying"] == 1
    assert "TimeoutError" in rows(store)[0].last_error and rows(store)[0].recipient is None
    phones.answers[("tickets", "get_ticket", 7)] = {"requester_phone": "13812345678"}
    channel.down = True
    for _ in range(2):
        clock.advance(minutes=5)
        run(store, settings, clock, lookup=phones, channel=channel)
    [failed] = rows(store)
    assert (failed.status, failed.attempts, failed.recipient) == ("failed", 3, "13812345678")
    assert len(phones.calls) == 2           # the phone found is kept, not asked again
    with store.reading() as session:
        published = session.execute(select(store.outbox_table.c.type)).scalars().all()
    assert published == ["message_failed"]
    with store.transaction() as session:
        deliveries.replay(session, failed.id, "message", clock())
    channel.down = False
    assert run(store, settings, clock, lookup=phones, channel=channel)["delivered"] == 1


def test_a_claimed_delivery_is_leased_and_due_again_if_its_sender_died(store):
    settings, clock = fast(), Clock()
    handle(store, settings, [event("affairs", "matter_published", branch_id=12)])
    with store.transaction() as session:
        assert len(deliveries.claim_due(session, clock(), 10, lease_seconds=120)) == 2
    with store.transaction() as session:
        assert deliveries.claim_due(session, clock(), 10, lease_seconds=120) == []
    clock.advance(seconds=121)
    channel = Outbox()
    assert run(store, settings, clock, channel=channel)["delivered"] == 2
    assert {m.to for m in channel.sent} == {"13800000012", "13800000013"}


def test_the_delivery_log_pages_newest_first_and_filters_by_status(store):
    settings, clock = fast(), Clock()
    subscription = subscribe(store)
    handle(store, settings, [event("tickets", "sla_breached", ticket_id=n) for n in (1, 2, 3)])
    with store.reading() as session:
        page = deliveries.webhook_log(session, subscription["id"], 0, 2, None)
        rest = deliveries.webhook_log(session, subscription["id"], 2, 2, None)
        assert deliveries.webhook_log(session, subscription["id"], 0, 10, "delivered") == []
        with pytest.raises(NotFound):
            deliveries.webhook_log(session, 999, 0, 10, None)
    assert [json.loads(rows(store, id=d["id"])[0].body)["data"]["ticket_id"]
            for d in page + rest] == [3, 2, 1]
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0


def test_a_round_that_meets_a_broken_database_is_logged_not_raised(caplog):
    class Broken:
        def transaction(self):
            raise ConnectionRefusedError("database down")
    caplog.set_level("WARNING", logger="services.notify.sender")
    assert sender.run_safely(Broken(), fast(), Outbox(), Phones({}), Clock()) == {}
    assert sender.run_safely(Broken(), fast(), Outbox(), Phones({}), Clock()) == {}
    assert sum("notify sender round failed" in r.getMessage() for r in caplog.records) == 1


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def test_settled_deliveries_are_forgotten_after_the_kept_days_pending_ones_never(store):
    settings, clock = fast(sender={"keep_days": 30}), Clock()
    subscription = subscribe(store)
    handle(store, settings, [event("tickets", "sla_breached", ticket_id=n) for n in (1, 2)])
    run(store, settings, clock, post=Receiver(subscription["secret"]))
    handle(store, settings, [event("affairs", "matter_published", branch_id=99, township_id=98),
                             event("tickets", "ticket_opened")])      # skipped, pending
    assert sender.prune_settled(store, settings, START + timedelta(days=29)) == 0
    assert sender.prune_settled(store, settings, START + timedelta(days=31)) == 3
    [left] = rows(store)
    assert left.status == "pending" and left.template == "ticket_opened"
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Attempt)) == 0
