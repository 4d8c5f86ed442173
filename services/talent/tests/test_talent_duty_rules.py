"""Rules of a township secretary's lists (pure)."""
from datetime import date

from services.talent import duty_rules

DAY = date(2026, 11, 27)


def item(item_id, deadline, status="open", done_on=None):
    return {"id": item_id, "title": f"整改{item_id}", "deadline": deadline, "status": status,
            "done_on": done_on}


def test_an_item_moves_forward_and_a_done_item_stays_done():
    created = date(2026, 3, 1)
    assert duty_rules.status_problem("open", "in_progress", DAY, created) is None
    assert duty_rules.status_problem("in_progress", "done", DAY, created) is None
    assert "not reopened" in duty_rules.status_problem("done", "open", DAY, created)
    assert "already open" in duty_rules.status_problem("open", "open", DAY, created)
    assert "before the item was added" in duty_rules.status_problem(
        "open", "done", date(2026, 2, 1), created)


def test_overdue_means_undone_after_the_deadline_day():
    assert not duty_rules.is_overdue("open", DAY, DAY)
    assert duty_rules.is_overdue("in_progress", date(2026, 11, 26), DAY)
    assert not duty_rules.is_overdue("done", date(2026, 1, 1), DAY)


def test_the_rectification_record_counts_items_due_in_the_year_and_names_the_late_ones():
    items = [item(1, date(2026, 3, 31), "done", date(2026, 3, 30)),     # on time
             item(2, date(2026, 6, 30), "done", date(2026, 7, 15)),     # late
             item(3, date(2026, 9, 30), "in_progress"),                 # overdue
             item(4, date(2026, 12, 31), "done", date(2026, 11, 1)),    # early, counts
             item(5, date(2026, 12, 31)),                               # not due yet
             item(6, date(2025, 12, 31), "done", date(2025, 12, 1))]    # another year
    record = duty_rules.rectification_record(items, 2026, DAY)
    assert record["due"] == 4 and record["on_time"] == 2
    assert [(late["id"], late["done_on"]) for late in record["late"]] == [(2, "2026-07-15"),
                                                                          (3, None)]
