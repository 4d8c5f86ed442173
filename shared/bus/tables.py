"""The bus tables, added to each service's own metadata so that they live in the service's own
database and take part in its transactions and its Alembic history: ``bus_outbox`` (events to
publish), ``bus_inbox`` (events handled) and ``bus_requests`` (write RPCs answered, with their
replies: ``shared.bus.requests``)."""
from sqlalchemy import (BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table,
                        Text)

ID = BigInteger().with_variant(Integer, "sqlite")


def add_bus_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Define ``bus_outbox``, ``bus_inbox`` and ``bus_requests`` on ``metadata`` (idempotent);
    returns the outbox and the inbox (``requests_table(metadata)`` is the third)."""
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
    requests = Table(
        "bus_requests", metadata,
        Column("consumer", String(200), primary_key=True),      # "members.record_activity"
        Column("request_key", String(255), primary_key=True),   # "key:<caller's>" / "rpc:<id>"
        Column("fingerprint", String(64), nullable=False),      # sha256 of the arguments
        Column("reply", Text),                                  # JSON; set in the same commit
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Index("ix_bus_requests_created_at", requests.c.created_at)
    return outbox, inbox


def requests_table(metadata: MetaData) -> Table:
    """``bus_requests`` of ``metadata`` (defining the bus tables if needed)."""
    add_bus_tables(metadata)
    return metadata.tables["bus_requests"]
