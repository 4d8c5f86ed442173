"""Row locks for a write that reads first (a matter, a village's chain head, an objection)."""


def for_update(session) -> bool | None:
    """``with_for_update`` for ``session.get``: row locks on PostgreSQL; None on SQLite, which
    has one writer at a time and no FOR UPDATE (so the identity map may answer)."""
    return None if session.get_bind().dialect.name == "sqlite" else True
