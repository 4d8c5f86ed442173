"""The talent service's rules: pure functions (no session, no broker), unit-tested in
milliseconds."""


def tidy_title(title: str) -> str:
    """One line, single spaces."""
    return " ".join(title.split())


def entry_dict(entry) -> dict:
    return {"id": entry.id, "unit_id": entry.unit_id, "title": entry.title}
