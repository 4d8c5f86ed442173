"""The members service's tables (its own database; outbox and inbox are added by ``Store``)."""
from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class OrgUnit(Base):
    __tablename__ = "org_units"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_org_units_parent_name"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    dissolved_on: Mapped[object | None] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    gender: Mapped[str] = mapped_column(String(8))
    ethnicity: Mapped[str] = mapped_column(String(20))
    birth_date: Mapped[object] = mapped_column(Date)
    resident_id: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    education: Mapped[str | None] = mapped_column(String(20))
    join_date: Mapped[object] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    household_plaque: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="active")
    left_reason: Mapped[str | None] = mapped_column(String(32))
    left_on: Mapped[object | None] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Movement(Base):
    """Every transfer, flow-out, flow-in and departure, never edited."""
    __tablename__ = "member_movements"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_branch_id: Mapped[int | None] = mapped_column(ID)
    to_branch_id: Mapped[int | None] = mapped_column(ID)
    on: Mapped[object] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Candidate(Base):
    """A person going through member development (发展党员); ``profile`` is the MemberInput
    fields known at application, used to register the member at admission."""
    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    resident_id: Mapped[str] = mapped_column(String(18), unique=True)
    profile: Mapped[dict] = mapped_column(JSON)
    stage: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class DevelopmentStep(Base):
    __tablename__ = "development_steps"
    __table_args__ = (UniqueConstraint("candidate_id", "no", name="uq_development_steps_no"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    no: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    on: Mapped[object] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(50))
    data: Mapped[dict] = mapped_column(JSON)
    stage_before: Mapped[str | None] = mapped_column(String(24))
    stage_after: Mapped[str | None] = mapped_column(String(24))
    result: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Team(Base):
    __tablename__ = "volunteer_teams"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    township_id: Mapped[int | None] = mapped_column(ID)
    description: Mapped[str | None] = mapped_column(Text)


class Project(Base):
    __tablename__ = "volunteer_projects"
    __table_args__ = (UniqueConstraint("team_id", "name", name="uq_volunteer_projects_team_name"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Activity(Base):
    """A recorded activity. Never edited: a revocation sets ``revoked_*`` and publishes the
    compensating ``activity_revoked``; a correction is a revocation plus a new activity."""
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_branch_day", "branch_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[object] = mapped_column(Date)
    hours: Mapped[object | None] = mapped_column(Numeric(6, 2))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_teams.id"))
    project: Mapped[str | None] = mapped_column(String(100))
    meeting_kind: Mapped[str | None] = mapped_column(String(24))
    attended: Mapped[bool | None] = mapped_column(Boolean)
    amount: Mapped[object | None] = mapped_column(Numeric(12, 2))
    households: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    batch: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
