"""Who a message goes to: the event's own phone, a unit's contacts, or a lookup."""
import pytest

from services.notify import recipients
from services.notify.recipients import ContactsRule, FieldRule, Lookup, LookupRule, Recipient

FIELDS = {"ticket_id", "phone", "branch_id", "township_id"}
CONTACTS = {12: (Recipient("13800000001", "村联络员"), Recipient("13800000002"))}


def test_rules_are_read_from_the_config_and_checked_against_the_payload():
    assert recipients.parse_rule({"field": "phone"}, FIELDS) == FieldRule("phone")
    assert recipients.parse_rule({"contacts": "branch_id"}, FIELDS) == ContactsRule("branch_id")
    assert recipients.parse_rule({"lookup": "tickets.get_ticket", "by": "ticket_id",
                                  "phone": "requester_phone"}, FIELDS) == \
        LookupRule("tickets", "get_ticket", "ticket_id", "requester_phone")


@pytest.mark.parametrize("raw,reason", [
    ({"field": "mobile"}, "not a field"),
    ({"field": "phone", "contacts": "branch_id"}, "one of"),
    ({"lookup": "tickets", "by": "ticket_id", "phone": "p"}, "SERVICE.METHOD"),
    ({"lookup": "tickets.get_ticket", "by": "nope", "phone": "p"}, "not a field"),
    ({"lookup": "tickets.get_ticket", "by": "ticket_id"}, "names lookup"),
    ("phone", "one of"),
])
def test_wrong_rules_say_why(raw, reason):
    with pytest.raises(ValueError, match=reason):
        recipients.parse_rule(raw, FIELDS)


def test_the_first_rule_that_yields_someone_wins():
    rules = [FieldRule("phone"), ContactsRule("branch_id")]
    assert recipients.choose(rules, {"phone": "139 0000 0003", "branch_id": 12}, CONTACTS) == \
        [Recipient("13900000003")]
    assert recipients.choose(rules, {"phone": None, "branch_id": 12}, CONTACTS) == list(CONTACTS[12])


def test_a_lookup_is_planned_when_its_key_is_set_and_later_rules_only_when_it_is_not():
    rules = [LookupRule("members", "get_member", "ticket_id", "phone"), ContactsRule("branch_id")]
    assert recipients.choose(rules, {"ticket_id": 7, "branch_id": 12}, CONTACTS) == \
        Lookup("members", "get_member", 7, "phone")
    assert recipients.choose(rules, {"ticket_id": None, "branch_id": 12}, CONTACTS) == \
        list(CONTACTS[12])


def test_nobody_when_no_rule_yields():
    rules = [FieldRule("phone"), ContactsRule("township_id")]
    assert recipients.choose(rules, {"phone": "not a phone", "township_id": 2}, CONTACTS) == []


@pytest.mark.parametrize("typed,phone", [
    ("13812345678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
    ("138-1234-5678", "13812345678"), ("+86 138 1234 5678", "+8613812345678"),
    ("(0317) 5551234", "03175551234"), ("12", None), ("1381234567x", None),
    ("138\x0012345678", None), ("", None), (None, None), (13812345678, None)])
def test_phone_numbers_are_read_as_digits_or_refused(typed, phone):
    assert recipients.normalise_phone(typed) == phone


def test_lookup_answers_give_a_phone_or_nothing():
    assert recipients.phone_in({"requester_phone": "１３８１２３４５６７８"}, "requester_phone") == \
        "13812345678"
    assert recipients.phone_in({"requester_phone": None}, "requester_phone") is None
    assert recipients.phone_in(None, "requester_phone") is None


def test_numbers_are_masked_in_answers():
    assert recipients.mask("13812345678") == "138****5678"
    assert recipients.mask("+8613812345678") == "+86*******5678"
    assert recipients.mask("12345") == "*****"
