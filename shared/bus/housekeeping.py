"""Keeping the outbox and inbox small: settled outbox rows and old inbox claims are deleted after
a retention period. The inbox must remember an event longer than any redelivery can take (a
dead letter replayed after the retention would be handled again), so keep it generous."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete

from shared.bus.outbox import PENDING


def prune(database, outbox_table, inbox_table, keep_days: int) -> dict:
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = datetime.now(timezone.utc) - timedelta(days=keep_days)
    with database.transaction() as session:
        outbox = session.execute(delete(outbox_table).where(
            outbox_table.c.status != PENDING, outbox_table.c.published_at < cutoff)).rowcount
        inbox = session.execute(delete(inbox_table).where(inbox_table.c.handled_at < cutoff)).rowcount
    return {"outbox_deleted": outbox, "inbox_deleted": inbox}
