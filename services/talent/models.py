"""The talent service's tables (its own database; ``Store`` adds the outbox, inbox and
stored write-RPC replies). After changing them: ``jiceng revision talent -m "what changed"``.

Lengths here are the limits the input schemas check (``schemas.py``), so a refused value is
refused the same way on PostgreSQL and SQLite."""
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")

NAME = 50          # a person's name
TITLE = 200        # a title, a project or course name
TEXT = 1000        # a free text (experience, a reason)
UNIT_NAME = 100


class Base(DeclarativeBase):
    pass


# -- learned from the members service ------------------------------------------------------------

class Unit(Base):
    """Organisation units as learned from the members service's events (no shared tables)."""
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    parent_id: Mapped[int | None] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(UNIT_NAME))
    dissolved: Mapped[bool] = mapped_column(Boolean, default=False)


class Member(Base):
    """Members as learned from the members service's events: the place and status a cadre's
    political standing and events need, nothing more."""
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(NAME))
    branch_id: Mapped[int | None] = mapped_column(ID, index=True)
    township_id: Mapped[int | None] = mapped_column(ID)
    category: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))       # full | probationary
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # false once member_left


# -- profiles and posts --------------------------------------------------------------------------

class Cadre(Base):
    """One person's profile (township or village Party secretary, first secretary, reserve
    candidate, wealth-creation leader: what they are follows from their posts and entries)."""
    __tablename__ = "cadres"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME))
    gender: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date] = mapped_column(Date)
    education: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int | None] = mapped_column(ID, unique=True)
    standing: Mapped[str | None] = mapped_column(String(20))     # when not a member
    experience_years: Mapped[int] = mapped_column(Integer, default=0)
    experience: Mapped[str | None] = mapped_column(String(TEXT))
    registered_on: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(ID)   # registered under; none: kept by the county


class Post(Base):
    """A post held for a term: ``started_on`` .. ``ends_on`` (the planned end), ``ended_on``
    once the holder left it, with the reasons for both."""
    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_unit_role", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    unit_id: Mapped[int] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    sent_by: Mapped[str | None] = mapped_column(String(16))    # first secretaries: city | township
    started_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(TITLE))
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(TITLE))


class VillageStatus(Base):
    """A village designated weak (软弱涣散) or special (重点): its first secretary is the city's."""
    __tablename__ = "village_statuses"

    village_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(TITLE))
    decided_on: Mapped[date] = mapped_column(Date)


class ReserveEntry(Base):
    """A candidate in the reserve cadre pool (后备干部库) of a township."""
    __tablename__ = "reserve_entries"

    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), primary_key=True,
                                          autoincrement=False)
    township_id: Mapped[int] = mapped_column(ID, index=True)
    village_id: Mapped[int | None] = mapped_column(ID)
    added_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))             # active | withdrawn | appointed
    note: Mapped[str | None] = mapped_column(String(TITLE))
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(TITLE))


# -- duties of township secretaries --------------------------------------------------------------

class DutyItem(Base):
    """An item of a township secretary's responsibility, problem or rectification list."""
    __tablename__ = "duty_items"
    __table_args__ = (Index("ix_duty_items_open", "list_kind", "status", "deadline"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    township_id: Mapped[int] = mapped_column(ID)
    list_kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(TITLE))
    owner: Mapped[str] = mapped_column(String(NAME))
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))            # open | in_progress | done
    done_on: Mapped[date | None] = mapped_column(Date)
    problem_id: Mapped[int | None] = mapped_column(ID)
    overdue_published_on: Mapped[date | None] = mapped_column(Date)
    created_on: Mapped[date] = mapped_column(Date)


class PartyProject(Base):
    """A Party-building project a township secretary leads."""
    __tablename__ = "party_projects"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    township_id: Mapped[int] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(TITLE))
    goal: Mapped[str | None] = mapped_column(String(TEXT))
    started_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))            # planned | underway | completed
    completed_on: Mapped[date | None] = mapped_column(Date)


# -- training ------------------------------------------------------------------------------------

class TrainingBase(Base):
    __tablename__ = "training_bases"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(TITLE), unique=True)
    location: Mapped[str] = mapped_column(String(TITLE))
    township_id: Mapped[int | None] = mapped_column(ID)


class Course(Base):
    """A course of the county's catalogue, or of one township's (``township_id``)."""
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(TITLE))
    mode: Mapped[str] = mapped_column(String(16))              # field | lecture | interaction
    hours: Mapped[object] = mapped_column(Numeric(4, 1))
    township_id: Mapped[int | None] = mapped_column(ID)


class TrainingSession(Base):
    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    course_id: Mapped[int] = mapped_column(ID, ForeignKey("courses.id"), index=True)
    base_id: Mapped[int] = mapped_column(ID, ForeignKey("training_bases.id"))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[object] = mapped_column(Numeric(4, 1))


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "cadre_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ID, ForeignKey("training_sessions.id"))
    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    hours: Mapped[object] = mapped_column(Numeric(4, 1))
    held_on: Mapped[date] = mapped_column(Date)


# -- assessment ----------------------------------------------------------------------------------

class ServiceStar(Base):
    """A township committee's official Service Star (服务星) for a closed quarter or year, as the
    stars service published it (``quarter_closed`` / ``year_closed``)."""
    __tablename__ = "service_stars"

    township_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    score: Mapped[object] = mapped_column(Numeric(12, 2))
    level: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    vetoes: Mapped[list] = mapped_column(JSON)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(36))


class ReviewVotes(Base):
    """The county's count of the review votes (民主评议) on a secretary's annual report."""
    __tablename__ = "review_votes"

    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), primary_key=True,
                                          autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    excellent: Mapped[int] = mapped_column(Integer)
    good: Mapped[int] = mapped_column(Integer)
    fair: Mapped[int] = mapped_column(Integer)
    poor: Mapped[int] = mapped_column(Integer)
    entered_by: Mapped[str] = mapped_column(String(NAME))
    entered_on: Mapped[date] = mapped_column(Date)


class Assessment(Base):
    """A completed annual report-and-review assessment (述职评议考核), with its explanation."""
    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("cadre_id", "year"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"))
    year: Mapped[int] = mapped_column(Integer)
    township_id: Mapped[int] = mapped_column(ID)
    total: Mapped[object] = mapped_column(Numeric(6, 2))
    grade: Mapped[str] = mapped_column(String(8))
    result: Mapped[dict] = mapped_column(JSON)
    assessed_by: Mapped[str] = mapped_column(String(NAME))
    completed_on: Mapped[date] = mapped_column(Date)


# -- wealth-creation leaders ---------------------------------------------------------------------

class WealthLeader(Base):
    """A rural wealth-creation leader (致富带头人): the industry led and households helped."""
    __tablename__ = "wealth_leaders"

    cadre_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), primary_key=True,
                                          autoincrement=False)
    village_id: Mapped[int] = mapped_column(ID)
    township_id: Mapped[int] = mapped_column(ID, index=True)
    industry: Mapped[str] = mapped_column(String(NAME))
    households_helped: Mapped[int] = mapped_column(Integer)
    since: Mapped[date] = mapped_column(Date)


class Cooperative(Base):
    """A farmers' cooperative (合作社), led by a wealth leader or not."""
    __tablename__ = "cooperatives"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(TITLE), unique=True)
    industry: Mapped[str] = mapped_column(String(NAME))
    village_id: Mapped[int] = mapped_column(ID)
    township_id: Mapped[int] = mapped_column(ID, index=True)
    leader_id: Mapped[int | None] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    member_households: Mapped[int] = mapped_column(Integer)
    founded_on: Mapped[date] = mapped_column(Date)


class DemonstrationZone(Base):
    """A demonstration zone (示范区/示范园) a wealth leader runs."""
    __tablename__ = "demonstration_zones"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(TITLE), unique=True)
    industry: Mapped[str] = mapped_column(String(NAME))
    township_id: Mapped[int] = mapped_column(ID, index=True)
    leader_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    area_mu: Mapped[object] = mapped_column(Numeric(10, 1))


class OnlineShop(Base):
    """An online shop (电商网店) a wealth leader runs; sales per year in ``ShopSales``."""
    __tablename__ = "online_shops"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    leader_id: Mapped[int] = mapped_column(ID, ForeignKey("cadres.id"), index=True)
    township_id: Mapped[int] = mapped_column(ID)
    platform: Mapped[str] = mapped_column(String(NAME))
    name: Mapped[str] = mapped_column(String(TITLE))


class ShopSales(Base):
    __tablename__ = "shop_sales"

    shop_id: Mapped[int] = mapped_column(ID, ForeignKey("online_shops.id"), primary_key=True,
                                         autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    amount: Mapped[object] = mapped_column(Numeric(14, 2))
