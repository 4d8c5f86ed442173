"""Rules of a township secretary's lists (责任清单、问题清单、整改清单) (pure): status moves,
overdue items and the share of rectification items done on time."""
from datetime import date

LIST_KINDS = ("responsibility", "problem", "rectification")
STATUSES = ("open", "in_progress", "done")
PROJECT_STATUSES = ("planned", "underway", "completed")


def status_problem(current: str, new: str, on: date, created_on: date) -> str | None:
    """Why an item may not move from ``current`` to ``new`` on ``on`` (None: it may). A done
    item stays done (a new problem is a new item)."""
    if current == "done":
        return "the item is done; a done item is not reopened (add a new item instead)"
    if new == current:
        return f"the item is already {current}"
    if on < created_on:
        return f"must not be before the item was added ({created_on.isoformat()})"
    return None


def is_overdue(status: str, deadline: date, day: date) -> bool:
    """Not done and past its deadline on ``day`` (the deadline day itself is still in time)."""
    return status != "done" and deadline < day


def on_time(status: str, deadline: date, done_on) -> bool:
    return status == "done" and done_on is not None and done_on <= deadline


def rectification_record(items, year: int, day: date) -> dict:
    """The rectification items that fell due in ``year`` by ``day`` (deadline in the year and
    before ``day``; done early counts too), which were done on time and which were not.
    ``items``: dicts with id, title, deadline, status, done_on."""
    due = [item for item in items
           if item["deadline"].year == year and (item["deadline"] < day or
                                                  on_time(item["status"], item["deadline"],
                                                          item["done_on"]))]
    late = [item for item in due if not on_time(item["status"], item["deadline"], item["done_on"])]
    return {"due": len(due), "on_time": len(due) - len(late),
            "late": [{"id": item["id"], "title": item["title"],
                      "deadline": item["deadline"].isoformat(),
                      "done_on": item["done_on"].isoformat() if item["done_on"] else None}
                     for item in sorted(late, key=lambda i: (i["deadline"], i["id"]))]}
