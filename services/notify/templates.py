"""Message templates (pure): Chinese text with ``{name}`` placeholders.

A placeholder is a payload field (``{ticket_id}``), the label of a coded field
(``{level_text}``: ``labels.level`` of the config for the payload's ``level``), or the name of
a unit the payload names (``{branch_name}``, ``{township_name}``, learned from the members
service). Nothing is evaluated: only ``{name}`` with lowercase letters, digits and underscores
is replaced, so a brace in the text stays as written. A value that is missing (null, an unknown
unit, a code without a label) is written as the configured ``missing`` text; a date in the
configured ``date_format``; a boolean as 是/否."""
from __future__ import annotations

import re
from datetime import date, datetime

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
UNIT_NAMES = {"branch_name": "branch_id", "township_name": "township_id"}
LABEL_SUFFIX = "_text"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def names(fields: set[str], labels: dict) -> set[str]:
    """Every placeholder a template over a payload with ``fields`` may use."""
    available = set(fields)
    available |= {f"{name}{LABEL_SUFFIX}" for name in labels if name in fields}
    available |= {name for name, field in UNIT_NAMES.items() if field in fields}
    return available


def label_key(value) -> str:
    """How a payload value is looked up in ``labels`` (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write(value, date_format: str, missing: str) -> str:
    if value is None or value == "":
        return missing
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return date_format.format(year=value.year, month=value.month, day=value.day)
    return str(value)


def values(payload: dict, labels: dict, unit_names: dict) -> dict:
    """What each placeholder stands for: the payload, its labels, the units' names
    (``unit_names``: unit id -> name)."""
    found = dict(payload)
    for name, words in labels.items():
        if name in payload and payload[name] is not None:
            found[f"{name}{LABEL_SUFFIX}"] = words.get(label_key(payload[name]))
    for name, field in UNIT_NAMES.items():
        if payload.get(field) is not None:
            found[name] = unit_names.get(payload[field])
    return found


def render(text: str, found: dict, date_format: str = "{year}-{month:02d}-{day:02d}",
           missing: str = "—") -> str:
    """``text`` with each placeholder replaced (see the module docstring)."""
    return PLACEHOLDER.sub(lambda m: write(found.get(m.group(1)), date_format, missing), text)
