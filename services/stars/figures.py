"""Standing figures: what a subject stands at for a period, and how they are read and written.

A ``Figure`` is one subject's own score, rolled-up total, level, vetoes and ``reached_at`` (when
the current score was reached: the ranking tie-break) for one period key. A ``Change`` is one
subject's figures before and after a recompute, for the month, quarter and year of a day; it is
what the outgoing events are built from (``payloads``).

Each ``standings`` row carries its subject's place (branch, township, active) copied from the
directory, so rankings and roll-up aggregates read one table.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import eventlet
from sqlalchemy import bindparam, func, select, tuple_, update

from services.stars import directory, rankings
from services.stars import scoring
from services.stars.models import ClosedResult, StandingRow

standings = StandingRow.__table__
closed = ClosedResult.__table__

PERIOD_KINDS = ("month", "quarter", "year")
LIVE = "quarter"  # the provisional level (实时升降) is the quarter-to-date level
ZERO = Decimal(0)
CENT = Decimal("0.01")
shown = scoring.shown  # a score as people read it (two decimals)
SCOPES_OF = {"member": ("branch", "township", "county"), "branch": ("township", "county"),
             "committee": ("county",)}
KIND_ORDER = ("member", "branch", "committee")


@dataclass
class Figure:
    score: Decimal = ZERO
    own: Decimal = ZERO
    level: int = 0
    vetoes: tuple = ()
    reached_at: object = None
    exists: bool = False
    version: str = ""

    def same_as(self, other: "Figure") -> bool:
        return self.score == other.score and self.own == other.own and \
            self.level == other.level and self.vetoes == other.vetoes


@dataclass
class Change:
    kind: str
    id: int
    keys: dict          # period kind -> period key
    before: dict        # period kind -> Figure
    after: dict
    branch_id: int | None = None
    township_id: int | None = None
    active: bool = True
    day: object = None  # the latest date of the facts behind the change

    @property
    def live_before(self) -> Figure:
        return self.before[LIVE]

    @property
    def live_after(self) -> Figure:
        return self.after[LIVE]


def figure_from_row(row) -> Figure:
    return Figure(score=Decimal(row.score), own=Decimal(row.own_score), level=row.level,
                  vetoes=tuple(row.vetoes or ()), reached_at=row.reached_at, exists=True,
                  version=getattr(row, "rulebook_version", ""))


def place_of(kind, subject_id, row) -> dict:
    """The place columns a standing row copies from its directory row."""
    row = row or {}
    return {"branch_id": row.get("branch_id") if kind == "member" else None,
            "township_id": subject_id if kind == "committee" else row.get("township_id"),
            "active": bool(row.get("active", True))}


def sync_places(session, keyed_rows) -> list[tuple]:
    """Copy subjects' directory places into their standing rows (after directory changes);
    ``keyed_rows``: ``(kind, id) -> directory row``. Returns the rows moved as
    ``(kind, id, period, figure before, figure after, place before, place after)``."""
    if not keyed_rows:
        return []
    moved = []
    for (kind, subject_id, period), row in _rows_of(session, keyed_rows).items():
        new = place_of(kind, subject_id, keyed_rows[(kind, subject_id)])
        old = {"branch_id": row.branch_id, "township_id": row.township_id, "active": row.active}
        if old != new:
            moved.append((kind, subject_id, period, figure_from_row(row), old, new))
    if moved:
        session.execute(update(standings).where(
            standings.c.subject_kind == bindparam("k"), standings.c.subject_id == bindparam("i"),
            standings.c.period == bindparam("p")).values(
            branch_id=bindparam("b"), township_id=bindparam("t"), active=bindparam("a")),
            [{"k": kind, "i": subject_id, "p": period, "b": new["branch_id"],
              "t": new["township_id"], "a": new["active"]}
             for kind, subject_id, period, _, _, new in moved])
    return moved


def _rows_of(session, keys) -> dict:
    found = {}
    keys = sorted(keys)
    for start in range(0, len(keys), 5000):
        for row in session.execute(select(standings).where(tuple_(
                standings.c.subject_kind, standings.c.subject_id).in_(keys[start:start + 5000]))):
            found[(row.subject_kind, row.subject_id, row.period)] = row
    return found


_LOAD = select(standings).where(
    standings.c.subject_kind == bindparam("kind"),
    standings.c.subject_id.in_(bindparam("ids", expanding=True)),
    standings.c.period.in_(bindparam("periods", expanding=True)))


def load(session, keys, period_keys) -> dict[tuple, dict[str, Figure]]:
    """``(kind, id) -> {period key: Figure}`` of the rows that exist."""
    found: dict[tuple, dict] = {}
    for row in directory.per_kind(session, _LOAD, keys, periods=sorted(period_keys)):
        found.setdefault((row.subject_kind, row.subject_id), {})[row.period] = figure_from_row(row)
    return found


WRITTEN = ("own_score", "score", "level", "vetoes", "reached_at", "rulebook_version", "branch_id",
           "township_id", "active")
_UPSERT: dict = {}


def upsert(session, rows):
    """Write standing rows (``INSERT ... ON CONFLICT (subject, period) DO UPDATE``, one call)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERT:
        statement = directory.dialect_insert(session, standings)
        _UPSERT[dialect] = statement.on_conflict_do_update(
            index_elements=["subject_kind", "subject_id", "period"],
            set_={name: statement.excluded[name] for name in WRITTEN})
    session.execute(_UPSERT[dialect], rows)


def figure_of(session, kind, subject_id, period_key, closed_period=False) -> Figure | None:
    if closed_period:
        row = session.execute(select(closed).where(
            closed.c.period == period_key, closed.c.subject_kind == kind,
            closed.c.subject_id == subject_id)).first()
        return figure_from_row(row) if row is not None else None
    row = session.execute(select(standings).where(
        standings.c.subject_kind == kind, standings.c.subject_id == subject_id,
        standings.c.period == period_key)).first()
    return figure_from_row(row) if row is not None else Figure()


def closed_distribution(session, kind, period_key) -> dict:
    """Subjects per level in a closed period's frozen results (live: ``ranks.distribution``)."""
    counts = {str(level): 0 for level in range(6)}
    query = select(closed.c.level, func.count()).where(
        closed.c.period == period_key, closed.c.subject_kind == kind).group_by(closed.c.level)
    for level, number in session.execute(query):
        counts[str(level)] = number
    return counts


def population(session, kind, period_key, closed_period=False) -> list[rankings.Standing]:
    """Every ranked subject of a kind as ``rankings.Standing`` (for the consequence lists)."""
    if closed_period:
        query = select(closed.c.subject_id, closed.c.level, closed.c.score, closed.c.reached_at,
                       closed.c.vetoes).where(closed.c.period == period_key,
                                              closed.c.subject_kind == kind)
        return [rankings.Standing(r[0], r[1], Decimal(r[2]), r[3], tuple(r[4] or ()))
                for r in session.execute(query)]
    found = {}
    for number, row in enumerate(session.execute(select(standings).where(
            standings.c.subject_kind == kind, standings.c.period == period_key,
            standings.c.active.is_(True)))):
        found[row.subject_id] = rankings.Standing(row.subject_id, row.level, Decimal(row.score),
                                                  row.reached_at, tuple(row.vetoes or ()))
        if number % 500 == 499:
            eventlet.sleep(0)
    subjects = directory.subjects
    for (subject_id,) in session.execute(select(subjects.c.id).where(
            subjects.c.kind == kind, subjects.c.active.is_(True))):
        found.setdefault(subject_id, rankings.Standing(subject_id, 0, ZERO, None))
    return list(found.values())

