"""Keeping the bus tables small: settled outbox rows, old inbox claims and old stored replies of
write RPCs are deleted after a retention period. The inbox must remember an event longer than any
redelivery can take (a dead letter replayed after the retention would be handled again), so keep
it generous; a write RPC repeated after its reply was pruned runs again."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete

from shared.bus.outbox import PENDING


def prune(database, outbox_table, inbox_table, keep_days: int, requests_table=None) -> dict:
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = datetime.now(timezone.utc) - timedelta(days=keep_days)
    with database.transaction() as session:
        outbox = session.execute(delete(outbox_table).where(
            outbox_table.c.status != PENDING, outbox_table.c.published_at < cutoff)).rowcount
        inbox = session.execute(delete(inbox_table).where(inbox_table.c.handled_at < cutoff)).rowcount
        result = {"outbox_deleted": outbox, "inbox_deleted": inbox}
        if requests_table is not None:
            result["requests_deleted"] = session.execute(delete(requests_table).where(
                requests_table.c.created_at < cutoff)).rowcount
    return result
