"""The stars service's tables (its own database; outbox and inbox are added by ``Store``).

* ``ledger``: append-only, one row per (event, rule) with the RAW points of the event
  (``scoring`` applies monthly caps when summarising). A revocation or a re-scoring never edits
  a row: it appends a compensating row naming it in ``compensates_id`` (unique: a row is
  compensated at most once).
* ``item_months``: derived from the ledger in the same transaction (raw sum and net count per
  subject, item and month), so a period summary reads a few dozen rows instead of the ledger.
* ``scored_events``: every event the rulebook listens to, with its payload, kept for
  ``explain`` and for ``rescore`` (a corrected rule can re-apply to past events).
* ``revocations``: revoked event ids, also when the revocation arrives before the event.
* ``subjects``: the directory fed by members' events (member -> branch, township, category;
  branch -> township, kind; committee), so roll-ups and ranking scopes work without RPC.
* ``standings``: live score and level per subject and period key (month, quarter, year),
  kept up to date by every event for fast rankings (with the subject's place copied in, so a
  ranking is a one-table query).
* ``period_closings`` + ``closed_results``: the monthly scoring handbook, the official quarterly
  stars and the archived year, frozen when closed.
* ``rulebook_runs``: the log of explicit re-scorings (who, why, what changed).
"""
from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer, "sqlite")
POINTS = Numeric(14, 4)


class Base(DeclarativeBase):
    pass


class RulebookRun(Base):
    __tablename__ = "rulebook_runs"

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(100))
    versions: Mapped[list] = mapped_column(JSON)
    started_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    events_rescored: Mapped[int] = mapped_column(Integer, default=0)
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    subjects_changed: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict | None] = mapped_column(JSON)


class LedgerEntry(Base):
    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_subject_day", "subject_kind", "subject_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(ID)
    item: Mapped[str] = mapped_column(String(64))
    points: Mapped[object] = mapped_column(POINTS)
    count: Mapped[int] = mapped_column(Integer)
    source_event_id: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    rule_id: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[object] = mapped_column(Date)
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    compensates_id: Mapped[int | None] = mapped_column(ForeignKey("ledger.id"), unique=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("rulebook_runs.id"))


class ItemMonth(Base):
    __tablename__ = "item_months"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ID, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    points: Mapped[object] = mapped_column(POINTS)
    count: Mapped[int] = mapped_column(Integer)


class ScoredEvent(Base):
    __tablename__ = "scored_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(128))
    occurred_on: Mapped[object] = mapped_column(Date, index=True)
    occurred_at: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # scored | revoked | archived
    received_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Revocation(Base):
    __tablename__ = "revocations"

    revoked_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoking_event_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[object] = mapped_column(DateTime(timezone=True))


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (Index("ix_subjects_branch", "kind", "branch_id"),
                      Index("ix_subjects_township", "kind", "township_id"))

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(100))
    branch_id: Mapped[int | None] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    category: Mapped[str | None] = mapped_column(String(16))
    unit_kind: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    place_as_of: Mapped[str | None] = mapped_column(String(40))


class StandingRow(Base):
    __tablename__ = "standings"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    own_score: Mapped[object] = mapped_column(POINTS)
    score: Mapped[object] = mapped_column(POINTS)
    level: Mapped[int] = mapped_column(Integer)
    vetoes: Mapped[list] = mapped_column(JSON)
    reached_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    rulebook_version: Mapped[str] = mapped_column(String(32))
    # copied from ``subjects`` (kept in step by the directory) so rankings read one table
    branch_id: Mapped[int | None] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PeriodClosing(Base):
    __tablename__ = "period_closings"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    period_kind: Mapped[str] = mapped_column(String(8))
    closed_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    rulebook_version: Mapped[str] = mapped_column(String(32))
    summary: Mapped[dict] = mapped_column(JSON)


class ClosedResult(Base):
    __tablename__ = "closed_results"
    __table_args__ = (Index("ix_closed_results_rank", "period", "subject_kind", "rank"),
                      Index("ix_closed_results_township_rank", "period", "subject_kind",
                            "township_id", "township_rank"),
                      Index("ix_closed_results_branch_rank", "period", "subject_kind",
                            "branch_id", "branch_rank"))

    period: Mapped[str] = mapped_column(ForeignKey("period_closings.period"), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    branch_id: Mapped[int | None] = mapped_column(ID)
    township_id: Mapped[int | None] = mapped_column(ID)
    own_score: Mapped[object] = mapped_column(POINTS)
    score: Mapped[object] = mapped_column(POINTS)
    level: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)  # county-wide
    township_rank: Mapped[int | None] = mapped_column(Integer)
    branch_rank: Mapped[int | None] = mapped_column(Integer)
    vetoes: Mapped[list] = mapped_column(JSON)
    items: Mapped[dict] = mapped_column(JSON)
    counts: Mapped[dict] = mapped_column(JSON)
    reached_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    model_star: Mapped[bool | None] = mapped_column(Boolean)
    model_star_unmet: Mapped[list | None] = mapped_column(JSON)


# -- rank counters (services/stars/ranks.py) -----------------------------------------------------
# Kept in step with ``standings`` and ``subjects`` by ``ranks.apply_*`` in the scoring transaction
# (``ranks.rebuild`` recomputes them), so a rank or a board reads a few hundred rows whatever the
# size of the county. Only the large scopes (township, county) have counters (and a branch its
# size); a branch is counted directly from ``standings``. Zero rows may remain: readers sum, so
# they count for nothing.

class RankBucket(Base):
    """Active standing rows per scope and period, by (level, score) at three grains: ``grain`` 0
    the exact score, 1 the score floored to whole points (``score`` holds the floor), 2 the level
    alone (``score`` 0). ``scope_id`` is 0 for the county."""
    __tablename__ = "rank_buckets"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    grain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    score: Mapped[object] = mapped_column(POINTS, primary_key=True)
    subjects: Mapped[int] = mapped_column(Integer)


class RankTie(Base):
    """Active standing rows per scope and period with the same (level, score), by the UTC day
    their score was reached (``day`` = ``date.toordinal()``; never reached: ``ranks.NEVER``, after
    every day): ties ahead of a row are whole days before its own plus one day read from the
    ranking index."""
    __tablename__ = "rank_ties"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    score: Mapped[object] = mapped_column(POINTS, primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subjects: Mapped[int] = mapped_column(Integer)


class RankIdBlock(Base):
    """Active standing rows NOT at level 0, score 0, never reached, per scope, period and block
    of subject ids (``block`` = id // ``width``; widths 256 and 16384): with ``ScopeSize`` they
    count the subjects ranked by id at the tail (no row, or 0 / 0 / never) below a given id."""
    __tablename__ = "rank_id_blocks"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    subjects: Mapped[int] = mapped_column(Integer)


class ScopeSize(Base):
    """Active subjects of the directory per scope: ``width`` 0 the whole scope (``block`` 0; every
    scope, branches too), otherwise per block of subject ids (``block`` = id // ``width``;
    township and county)."""
    __tablename__ = "scope_sizes"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_id: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(ID, primary_key=True, autoincrement=False)
    subjects: Mapped[int] = mapped_column(Integer)


def _ranking_index(name, *scope_columns):
    """An index in ranking order (level, score desc; reached_at asc, nulls last; id) over active
    standing rows: a board is its first n entries, a tie-break count one range of it."""
    from sqlalchemy import text  # (this section is appended: the imports above stay as they were)
    c = StandingRow.__table__.c
    # the predicates as the queries render ``standings.c.active`` (else the planners skip it)
    return Index(name, c.subject_kind, c.period, *scope_columns, c.level.desc(), c.score.desc(),
                 c.reached_at, c.subject_id, postgresql_where=text("active"),
                 sqlite_where=text("active = 1"))


_ranking_index("ix_standings_order_county")
_ranking_index("ix_standings_order_township", StandingRow.__table__.c.township_id)
_ranking_index("ix_standings_order_branch", StandingRow.__table__.c.branch_id)
