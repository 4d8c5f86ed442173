"""The inbox: exactly-once effect on top of at-least-once delivery.

A handler claims ``(consumer, event_id)`` in the same transaction as its own writes. The first
delivery inserts the row and commits with the work; a redelivery (after a crash, a SIGTERM, a
retry that raced the original) finds the row and raises ``AlreadyHandled``, which the subscription
acknowledges as success without running the handler again.
"""
from sqlalchemy.dialects import postgresql, sqlite

from shared.bus.outbox import now


class AlreadyHandled(Exception):
    """Raised inside a handler's transaction when this consumer already handled the event."""


def claim(session, inbox_table, consumer: str, event_id: str):
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(inbox_table).values(consumer=consumer, event_id=event_id,
                                           handled_at=now()).on_conflict_do_nothing()
    if session.execute(statement).rowcount == 0:
        raise AlreadyHandled(f"{consumer} already handled event {event_id}")
