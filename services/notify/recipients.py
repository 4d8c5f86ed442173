"""Who a message goes to (pure): a template's recipient rules applied to an event.

Rules (config, in order; the first that yields someone wins):

* ``{field: NAME}``: the phone number the payload carries in ``NAME``;
* ``{contacts: NAME}``: the configured contact list of the unit whose id is in ``NAME``;
* ``{lookup: SERVICE.METHOD, by: NAME, phone: FIELD}``: asked when the message is sent
  (``SERVICE.METHOD(payload[NAME])``, a bounded RPC outside any transaction), the phone being
  ``FIELD`` of the answer. It yields when ``payload[NAME]`` is set; what the service answers
  is then final: no phone there means no recipient (the rules after it are not tried).

``choose`` answers a list of ``Recipient`` or one ``Lookup``; an empty list means nobody: the
message is logged once and kept as skipped."""
from __future__ import annotations

import re
from dataclasses import dataclass

from shared.inputs import control_characters, normalise_digits

PHONE = re.compile(r"^\+?[0-9]{3,20}$")


@dataclass(frozen=True)
class Recipient:
    phone: str
    name: str | None = None


@dataclass(frozen=True)
class Lookup:
    service: str
    method: str
    value: object
    phone_field: str

    def as_dict(self) -> dict:
        return {"service": self.service, "method": self.method, "value": self.value,
                "phone_field": self.phone_field}


@dataclass(frozen=True)
class FieldRule:
    field: str


@dataclass(frozen=True)
class ContactsRule:
    field: str


@dataclass(frozen=True)
class LookupRule:
    service: str
    method: str
    by: str
    phone: str


NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def parse_rule(raw, fields: set[str]):
    """One rule of the config; ``ValueError`` says what is wrong. ``fields``: the payload's."""
    if not isinstance(raw, dict) or len({"field", "contacts", "lookup"} & set(raw)) != 1:
        raise ValueError("one of {field: NAME}, {contacts: NAME}, "
                         "{lookup: SERVICE.METHOD, by: NAME, phone: FIELD}")
    if "field" in raw or "contacts" in raw:
        kind = "field" if "field" in raw else "contacts"
        if set(raw) != {kind}:
            raise ValueError(f"unknown key(s) beside {kind}")
        if raw[kind] not in fields:
            raise ValueError(f"{raw[kind]!r} is not a field of the event")
        return FieldRule(raw[kind]) if kind == "field" else ContactsRule(raw[kind])
    if set(raw) != {"lookup", "by", "phone"}:
        raise ValueError("a lookup names lookup: SERVICE.METHOD, by: NAME and phone: FIELD")
    service, _, method = str(raw["lookup"]).partition(".")
    if not (NAME.match(service) and NAME.match(method) and isinstance(raw["phone"], str)
            and NAME.match(raw["phone"])):
        raise ValueError("lookup is SERVICE.METHOD and phone a field name")
    if raw["by"] not in fields:
        raise ValueError(f"{raw['by']!r} is not a field of the event")
    return LookupRule(service, method, raw["by"], raw["phone"])


def normalise_phone(value) -> str | None:
    """A phone number as digits (an optional leading +), full-width digits read as digits,
    spaces and dashes dropped; None when it is not one."""
    if not isinstance(value, str) or len(value) > 40 or control_characters(value):
        return None
    cleaned = re.sub(r"[\s\-()]", "", normalise_digits(value))
    return cleaned if PHONE.match(cleaned) else None


def choose(rules, payload: dict, contacts: dict) -> list[Recipient] | Lookup:
    """Apply ``rules`` to ``payload`` (see the module docstring)."""
    for rule in rules:
        if isinstance(rule, FieldRule):
            phone = normalise_phone(payload.get(rule.field))
            if phone:
                return [Recipient(phone)]
        elif isinstance(rule, ContactsRule):
            unit = payload.get(rule.field)
            found = contacts.get(unit) if isinstance(unit, int) else None
            if found:
                return list(dict.fromkeys(found))
        elif payload.get(rule.by) is not None:
            return Lookup(rule.service, rule.method, payload[rule.by], rule.phone)
    return []


def phone_in(answer, field: str) -> str | None:
    """The phone ``field`` of a lookup's answer (None: it has none)."""
    return normalise_phone(answer.get(field)) if isinstance(answer, dict) else None


def mask(phone: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``: what RPC answers show of a person's number."""
    if not phone:
        return phone
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
