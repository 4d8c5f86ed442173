"""The notify settings: the shipped defaults are valid against the live contract registry, and
a wrong key stops the service with its path named."""
import pytest

from services.notify import settings
from services.notify.recipients import ContactsRule, LookupRule, Recipient

ISSUE_EVENTS = {("tickets", "ticket_opened"), ("tickets", "ticket_escalated"),
                ("tickets", "ticket_resolved"), ("tickets", "ticket_closed"),
                ("affairs", "matter_published"), ("talent", "rectification_overdue")}


def test_the_default_templates_answer_the_issues_events_and_fit_their_contracts():
    loaded = settings.load({})
    assert {(t.source, t.type) for t in loaded.templates} == ISSUE_EVENTS
    assert loaded.channel == "file" and loaded.file_directory.name == "notify"
    villager = loaded.templates_for("tickets", "ticket_resolved")[0]
    assert villager.recipients == (LookupRule("tickets", "get_ticket", "ticket_id",
                                              "requester_phone"),)
    village = loaded.templates_for("affairs", "matter_published")[0]
    assert village.recipients == (ContactsRule("branch_id"), ContactsRule("township_id"))


def test_the_running_config_overrides_key_by_key():
    loaded = settings.load({"notify": {
        "channel": "sms_http",
        "sms_http": {"url": "https://sms.example.gov.cn/send", "token": "t0k"},
        "retry": {"max_attempts": 3},
        "contacts": {"12": ["13800000001", {"phone": "１３８００００００02", "name": "联络员"}]}}})
    assert loaded.sms_http.url == "https://sms.example.gov.cn/send"
    assert loaded.sms_http.timeout_seconds == 5            # the default kept
    assert loaded.retry.max_attempts == 3 and loaded.retry.base_seconds == 10
    assert loaded.contacts == {12: (Recipient("13800000001"), Recipient("13800000002", "联络员"))}


@pytest.mark.parametrize("override,path", [
    ({"channel": "pigeon"}, "notify.channel"),
    ({"channel": "sms_http"}, "notify.sms_http.url"),
    ({"retry": {"max_attempts": 0}}, "notify.retry.max_attempts"),
    ({"sender": {"concurrency": 2.5}}, "notify.sender.concurrency"),
    ({"webhooks": {"allowed_schemes": ["ftp"]}}, "notify.webhooks.allowed_schemes"),
    ({"contacts": {"twelve": ["13800000001"]}}, "notify.contacts.twelve"),
    ({"contacts": {"12": ["call me"]}}, "notify.contacts.12[0].phone"),
    ({"templates": {"x": {"event": "tickets.ticket_lost", "text": "a",
                          "recipients": [{"field": "ticket_id"}]}}}, "notify.templates.x.event"),
    ({"templates": {"x": {"event": "tickets.ticket_closed", "text": "{nonsense}",
                          "recipients": [{"contacts": "branch_id"}]}}}, "notify.templates.x.text"),
    ({"templates": {"x": {"event": "tickets.ticket_closed", "text": "a",
                          "recipients": [{"contacts": "village"}]}}},
     "notify.templates.x.recipients[0]"),
    ({"templates": {"x": {"event": "notify.message_failed", "text": "a",
                          "recipients": [{"contacts": "branch_id"}]}}}, "notify.templates.x.event"),
    ({"templates": {"x": {"event": "tickets.ticket_closed", "text": "a", "recipients": [],
                          "extra": 1}}}, "notify.templates.x"),
])
def test_a_wrong_setting_is_named(override, path):
    with pytest.raises(ValueError) as refused:
        settings.load({"notify": override})
    assert str(refused.value).startswith(path + ":"), str(refused.value)
