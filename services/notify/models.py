"""The notify service's tables (its own database; ``Store`` adds the outbox, inbox and
stored write-RPC replies). After changing them: ``jiceng revision notify -m "what changed"``."""
from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String,
                        Text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")
MOMENT = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """Organisation units as learned from the members service's events (no shared tables):
    their names for the templates' ``{branch_name}`` / ``{township_name}``."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    township_id: Mapped[int | None] = mapped_column(ID)


class Subscription(Base):
    """An outgoing webhook: the events an integrating system asked for, where, and the secret
    its deliveries are signed with."""
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(500))
    event_types: Mapped[str] = mapped_column(Text)           # JSON list of "source.type" or "*"
    township_id: Mapped[int | None] = mapped_column(ID)      # only events of this township
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(300))        # sealed (``sealing``)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(MOMENT)
    disabled_at: Mapped[datetime | None] = mapped_column(MOMENT)


class Delivery(Base):
    """The outbox of everything notify sends: a message to a person (``kind`` message, through
    ``channel`` file or sms_http, to ``recipient``) or an event to a webhook (``kind`` webhook,
    ``subscription_id``). Recorded in the event handler's transaction; sent by the timer.

    ``status``: pending (``next_attempt_at`` says when; a claimed one is pushed a lease ahead),
    delivered, failed (``attempts`` failures; replayable), skipped (nobody to send to, or stale;
    ``last_error`` says which) or cancelled (its subscription was disabled)."""
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_deliveries_subscription", "subscription_id", "id"))

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    township_id: Mapped[int | None] = mapped_column(ID)
    branch_id: Mapped[int | None] = mapped_column(ID)
    subscription_id: Mapped[int | None] = mapped_column(ID, ForeignKey("webhook_subscriptions.id"))
    template: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(40))
    recipient_name: Mapped[str | None] = mapped_column(String(100))
    lookup: Mapped[str | None] = mapped_column(Text)          # JSON recipients.Lookup
    body: Mapped[str] = mapped_column(Text)                   # message text or envelope JSON
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(MOMENT)
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(MOMENT)
    delivered_at: Mapped[datetime | None] = mapped_column(MOMENT)


class Attempt(Base):
    """One try of a webhook delivery, for the delivery log."""
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ID, ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(MOMENT)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)
