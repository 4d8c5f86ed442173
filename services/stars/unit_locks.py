"""One scoring transaction at a time per township: the safety net under partitioning.

The stars subscription is partitioned by township, so a township's subjects are recomputed by
one consumer at a time and these locks are never contended. Some work reaches across partitions
(a member transferred to another township, a branch moved, an event that arrives for a member who
has moved since): such a batch also recomputes units of another partition. Every batch takes a
transaction-level advisory lock (PostgreSQL) per township key it recomputes, named as the
partition keys are (``shared.contracts.envelope.partition_key``), so two batches never recompute
one township's units at the same time. SQLite serialises writers already.
"""
from sqlalchemy import text

LOCK_SPACE = 72_057

_LOCK = text("SELECT pg_advisory_xact_lock(:space, hashtext(k)) "
             "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n")


def key_of(kind, subject_id, row) -> str | None:
    """The township key of a directory row (as the partition key names it)."""
    row = row or {}
    if kind == "committee":
        return str(subject_id)
    if row.get("township_id") is not None:
        return str(row["township_id"])
    branch = subject_id if kind == "branch" else row.get("branch_id")
    return f"branch:{branch}" if branch is not None else None


def lock(session, keys):
    """Hold the lock of each key to the end of the transaction (in sorted order)."""
    keys = sorted({key for key in keys if key is not None})
    if keys and session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK, {"space": LOCK_SPACE, "keys": keys})
