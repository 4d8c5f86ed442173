"""The affairs service's tables (its own database; ``Store`` adds the outbox, inbox and
stored write-RPC replies). After changing them: ``jiceng revision affairs -m "what changed"``."""
from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")
AMOUNT = Numeric(14, 2)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """Organisation units as learned from the members service's events (no shared tables)."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    dissolved: Mapped[bool] = mapped_column(Boolean, default=False)


class Matter(Base):
    """A village major matter and where it stands in its procedure."""
    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    branch_id: Mapped[int] = mapped_column(ID, index=True)
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    item: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    procedure: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[object | None] = mapped_column(AMOUNT)
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_on: Mapped[date] = mapped_column(Date, index=True)
    execution_percent: Mapped[int | None] = mapped_column(Integer)
    execution_finished_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StepRecord(Base):
    """One recorded step: a meeting with attendance and votes, a publication, the start of
    execution, the acceptance. ``superseded`` when a return sent the matter back past it."""
    __tablename__ = "steps"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step: Mapped[str] = mapped_column(String(40))
    happened_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))        # adopted | rejected | recorded
    form: Mapped[str | None] = mapped_column(String(40))    # the meeting form
    members: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    votes_for: Mapped[int | None] = mapped_column(Integer)
    votes_against: Mapped[int | None] = mapped_column(Integer)
    votes_abstain: Mapped[int | None] = mapped_column(Integer)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    as_happened: Mapped[bool] = mapped_column(Boolean, default=False)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Progress(Base):
    """An execution progress update by the villagers' committee."""
    __tablename__ = "progress"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    reported_on: Mapped[date] = mapped_column(Date)
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(50))


class SignOff(Base):
    """The supervision committee's sign-off of one recorded step."""
    __tablename__ = "sign_offs"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step_id: Mapped[int] = mapped_column(ID, ForeignKey("steps.id"), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    signed_by: Mapped[str] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)


class Objection(Base):
    """An objection of the supervision committee; open until answered, it blocks completion."""
    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step: Mapped[str | None] = mapped_column(String(40))
    raised_on: Mapped[date] = mapped_column(Date)
    raised_by: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    answered_on: Mapped[date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(50))
    answer: Mapped[str | None] = mapped_column(Text)


class Evidence(Base):
    """A file kept under the evidence folder (``stored_path``) or a reference to one kept
    elsewhere, with the SHA-256 of its content either way."""
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ID, ForeignKey("steps.id"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str | None] = mapped_column(String(100))
    stored_path: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Violation(Base):
    """A breach of the procedure found when a step was recorded as it happened."""
    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step_id: Mapped[int | None] = mapped_column(ID, ForeignKey("steps.id"))
    branch_id: Mapped[int] = mapped_column(ID, index=True)
    township_id: Mapped[int | None] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(8))
    step: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    occurred_on: Mapped[date] = mapped_column(Date)


class PublishedRecord(Base):
    """A public record (resolution or implementation result) at its place in its village's
    hash chain. Never updated: ``chain.verify`` recomputes every hash."""
    __tablename__ = "published_records"
    __table_args__ = (UniqueConstraint("branch_id", "seq"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    branch_id: Mapped[int] = mapped_column(ID)
    seq: Mapped[int] = mapped_column(Integer)
    matter_id: Mapped[int] = mapped_column(ID, ForeignKey("matters.id"), index=True)
    step_id: Mapped[int] = mapped_column(ID, ForeignKey("steps.id"))
    kind: Mapped[str] = mapped_column(String(40))
    published_on: Mapped[date] = mapped_column(Date)
    notice_days: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


class Chain(Base):
    """A village's chain head: how many records it holds and the last record's hash."""
    __tablename__ = "chains"

    branch_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    length: Mapped[int] = mapped_column(Integer, default=0)
    head: Mapped[str] = mapped_column(String(64))
