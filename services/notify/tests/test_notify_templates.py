"""Message templates: placeholders, labels, unit names, dates, missing values."""
from datetime import date

from services.notify import templates

LABELS = {"level": {"village": "村便民服务站"}, "automatic": {"true": "自动", "false": "人工"}}


def test_placeholders_are_payload_fields_labels_and_unit_names():
    text = "{ticket_id} {level_text} {branch_name} {due_on}"
    assert templates.placeholders(text) == {"ticket_id", "level_text", "branch_name", "due_on"}
    available = templates.names({"ticket_id", "level", "branch_id", "due_on"}, LABELS)
    assert templates.placeholders(text) <= available
    assert "township_name" not in available and "automatic_text" not in available


def test_rendering_fills_values_labels_unit_names_and_dates():
    payload = {"ticket_id": 7, "level": "village", "branch_id": 12, "due_on": date(2026, 10, 4),
               "automatic": False}
    found = templates.values(payload, LABELS, {12: "前辛庄村党支部"})
    text = templates.render("【便民】{branch_name}：事项{ticket_id}由{level_text}办理，至{due_on}，"
                            "{automatic_text}", found, "{year}年{month}月{day}日")
    assert text == "【便民】前辛庄村党支部：事项7由村便民服务站办理，至2026年10月4日，人工"


def test_missing_values_unknown_units_and_codes_without_labels_show_the_missing_mark():
    found = templates.values({"ticket_id": None, "level": "city", "branch_id": 99}, LABELS, {})
    assert templates.render("{ticket_id}|{level_text}|{branch_name}", found, missing="—") == "—|—|—"


def test_nothing_but_simple_names_is_replaced():
    found = {"a": 1}
    assert templates.render("{a} {a.__class__} {0} {{a}} {A}", found) == "1 {a.__class__} {0} {1} {A}"


def test_booleans_read_as_yes_or_no():
    assert templates.render("{on_time}", {"on_time": True}) == "是"
