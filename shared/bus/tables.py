"""The outbox and inbox tables, added to each service's own metadata so that they live in the
service's own database and take part in its transactions and its Alembic history."""
from sqlalchemy import (BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table,
                        Text)

ID = BigInteger().with_variant(Integer, "sqlite")


def add_bus_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Define ``bus_outbox`` and ``bus_inbox`` on ``metadata`` (idempotent)."""
    if "bus_outbox" in metadata.tables:
        return metadata.tables["bus_outbox"], metadata.tables["bus_inbox"]
    outbox = Table(
        "bus_outbox", metadata,
        Column("id", ID, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("source", String(64), nullable=False),
        Column("type", String(128), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("status", String(16), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
    )
    Index("ix_bus_outbox_pending", outbox.c.status, outbox.c.id)
    inbox = Table(
        "bus_inbox", metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )
    return outbox, inbox
