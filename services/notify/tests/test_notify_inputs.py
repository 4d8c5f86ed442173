"""Webhook subscription inputs and matching (no database)."""
from types import SimpleNamespace

import pytest

from services.notify import schemas, subscriptions
from shared.errors import InvalidInput

GOOD = {"url": "https://hall.example.gov.cn/hooks/jiceng", "event_types": ["tickets.ticket_resolved"]}


def load(payload, schemes=("http", "https")):
    return schemas.load(schemas.webhook_input(schemes), payload)


def test_a_good_subscription_loads_with_defaults():
    assert load(GOOD) == {**GOOD, "township_id": None, "description": None}
    assert load({**GOOD, "event_types": ["*"]})["event_types"] == ["*"]


@pytest.mark.parametrize("change,field", [
    ({"url": "ftp://hall.example.gov.cn/x"}, "url"),
    ({"url": "https://user:pw@hall.example.gov.cn/x"}, "url"),
    ({"url": "https:///nohost"}, "url"),
    ({"url": "https://hall.example.gov.cn:99999/x"}, "url"),
    ({"url": "https://办事大厅.cn/x"}, "url"),
    ({"url": "https://hall.example.gov.cn/a b"}, "url"),
    ({"url": "https://hall.example.gov.cn/#frag"}, "url"),
    ({"url": "https://x.cn/\x00"}, "url"),
    ({"url": "https://x.cn/" + "a" * 500}, "url"),
    ({"event_types": []}, "event_types"),
    ({"event_types": ["tickets.ticket_lost"]}, "event_types"),
    ({"event_types": ["ticket_resolved"]}, "event_types"),
    ({"event_types": ["tickets.ticket_resolved", "tickets.ticket_resolved"]}, "event_types"),
    ({"event_types": "tickets.ticket_resolved"}, "event_types"),
    ({"event_types": [7]}, "event_types.0"),
    ({"township_id": 0}, "township_id"),
    ({"township_id": 2 ** 70}, "township_id"),
    ({"description": "x" * 201}, "description"),
    ({"secret": "mine"}, "secret"),
])
def test_bad_subscriptions_are_refused_naming_the_field(change, field):
    with pytest.raises(InvalidInput) as refused:
        load({**GOOD, **change})
    assert field in refused.value.errors, refused.value.errors


def test_a_deployment_may_allow_https_only():
    with pytest.raises(InvalidInput) as refused:
        load({**GOOD, "url": "http://hall.example.gov.cn/x"}, schemes=("https",))
    assert "https://" in str(refused.value)


def subscription(types, township_id=None):
    return SimpleNamespace(event_types=__import__("json").dumps(types), township_id=township_id)


def test_a_subscription_hears_its_types_all_with_a_star_and_only_its_township():
    named = subscription(["tickets.ticket_resolved"])
    assert subscriptions.matches(named, "tickets", "ticket_resolved", {})
    assert not subscriptions.matches(named, "tickets", "ticket_opened", {})
    assert not subscriptions.matches(named, "affairs", "ticket_resolved", {})
    assert subscriptions.matches(subscription(["*"]), "members", "member_left", {})
    local = subscription(["*"], township_id=2)
    assert subscriptions.matches(local, "tickets", "ticket_opened", {"township_id": 2})
    assert not subscriptions.matches(local, "tickets", "ticket_opened", {"township_id": 3})
    assert not subscriptions.matches(local, "members", "org_unit_created", {"township_id": None})
