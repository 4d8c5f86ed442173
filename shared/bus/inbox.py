"""The inbox: exactly-once effect on top of at-least-once delivery.

A handler claims ``(consumer, event_id)`` in the same transaction as its own writes. The first
delivery inserts the row and commits with the work; a redelivery (after a crash, a SIGTERM, a
retry that raced the original) finds the row and raises ``AlreadyHandled``, which the subscription
acknowledges as success without running the handler again.

A batch handler claims all its events at once with ``claim_many``: one
``INSERT ... ON CONFLICT DO NOTHING RETURNING event_id``; the ids it returns are the fresh ones.
On PostgreSQL a concurrent transaction claiming the same id waits on the primary key until the
first one commits, then skips it.
"""
from sqlalchemy.dialects import postgresql, sqlite

from shared.bus.outbox import now


class AlreadyHandled(Exception):
    """Raised inside a handler's transaction when this consumer already handled the event."""


def _insert(session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def claim(session, inbox_table, consumer: str, event_id: str):
    statement = _insert(session)(inbox_table).values(consumer=consumer, event_id=event_id,
                                           handled_at=now()).on_conflict_do_nothing()
    if session.execute(statement).rowcount == 0:
        raise AlreadyHandled(f"{consumer} already handled event {event_id}")


def claim_many(session, inbox_table, consumer: str, event_ids) -> set[str]:
    """Claim every id of ``event_ids`` for ``consumer``; returns the ids claimed now (the others
    were claimed before). Never raises ``AlreadyHandled``."""
    distinct = list(dict.fromkeys(event_ids))
    if not distinct:
        return set()
    stamp = now()
    statement = (_insert(session)(inbox_table).on_conflict_do_nothing()
                 .returning(inbox_table.c.event_id))
    rows = session.execute(statement, [dict(consumer=consumer, event_id=event_id, handled_at=stamp)
                                       for event_id in distinct])
    return set(rows.scalars())
