"""The tickets service's tables (its own database; ``Store`` adds the outbox, inbox and stored
write-RPC replies). Timestamps are UTC without a zone (the same on PostgreSQL and SQLite); days
(``*_on``) are China-local dates. After changing them: ``jiceng revision tickets -m "..."``."""
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """Organisation units as learned from the members service's events (no shared tables)."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    dissolved: Mapped[bool] = mapped_column(Boolean, default=False)


class KnownMember(Base):
    """Members as learned from the members service's events: enough to link a proxy agent to a
    member record and to place the credit (branch, township, category)."""
    __tablename__ = "known_members"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[int] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    category: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServicePoint(Base):
    """The city platform, a township service centre or a village (community) service station,
    hosted by one organisation unit."""
    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ID, unique=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Matter(Base):
    """A matter of the service catalogue (办事事项)."""
    __tablename__ = "matters"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    lowest_level: Mapped[str] = mapped_column(String(16))
    time_limit_days: Mapped[int] = mapped_column(Integer)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DutyShift(Base):
    """One line of a service point's duty rota (坐班): who sits on which weekday, when."""
    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    service_point_id: Mapped[int] = mapped_column(ID, ForeignKey("service_points.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)          # 1 Monday ... 7 Sunday
    starts: Mapped[str] = mapped_column(String(5))         # "08:30"
    ends: Mapped[str] = mapped_column(String(5))
    cadre_name: Mapped[str] = mapped_column(String(30))
    member_id: Mapped[int | None] = mapped_column(ID)


class Agent(Base):
    """A proxy agent (代办员) of a service point; ``member_id`` when the agent is a member."""
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    service_point_id: Mapped[int] = mapped_column(ID, ForeignKey("service_points.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    phone: Mapped[str | None] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ID, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_on: Mapped[date] = mapped_column(Date)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_code: Mapped[str] = mapped_column(String(40), ForeignKey("matters.code"), index=True)
    opened_point_id: Mapped[int] = mapped_column(ID, ForeignKey("service_points.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ID, ForeignKey("service_points.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    branch_id: Mapped[int | None] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(String(16))       # station, agent, open311
    requester_name: Mapped[str] = mapped_column(String(60))
    requester_phone: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[object | None] = mapped_column(Numeric(9, 6))
    long: Mapped[object | None] = mapped_column(Numeric(9, 6))
    open311_client: Mapped[str | None] = mapped_column(String(60))
    agent_id: Mapped[int | None] = mapped_column(ID, ForeignKey("agents.id"), index=True)
    consent_method: Mapped[str | None] = mapped_column(String(24))
    consent_given_on: Mapped[date | None] = mapped_column(Date)
    consent_reference: Mapped[str | None] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    received_on: Mapped[date] = mapped_column(Date)        # by the current level
    due_on: Mapped[date] = mapped_column(Date)
    warned_for: Mapped[date | None] = mapped_column(Date)  # the due date a warning was sent for
    breached_here: Mapped[bool] = mapped_column(Boolean, default=False)
    ever_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_on: Mapped[date | None] = mapped_column(Date)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_on: Mapped[date | None] = mapped_column(Date, index=True)
    resolved_level: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(1000))
    working_days: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class TicketChange(Base):
    """The ticket's history: every change with who and when."""
    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ID, ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    service_point_id: Mapped[int] = mapped_column(ID)
    note: Mapped[str | None] = mapped_column(String(1000))

