"""Live ranks that stay fast at province scale: counters kept in step with ``standings``.

The order is ``rankings.sort_key`` (level desc, score desc, reached_at asc with None last,
subject id asc) over the ACTIVE subjects of a scope; an active subject without a standing row for
the period stands at level 0, score 0, never reached (the "tail", ranked by id). Scopes: member ->
branch, township, county; branch -> township, county; committee -> county.

A subject's rank is 1 + the rows ahead of it on (level, score) + its ties ahead on (reached_at, id)
+ the tail subjects ahead of it. Counters (tables in ``models``) for the large scopes (township,
county; ``scope_id`` 0 for the county) keep each term to a few hundred rows, however many members:

* ``rank_buckets``: active standing rows per (level, score) at three grains: exact score, score
  floored to whole points, level alone. Ahead on (level, score) = levels above (<= 6 rows) +
  whole points above at its level + exact scores above within its point;
* ``rank_ties``: the same rows per (level, score, UTC day reached). Ties ahead = days before its
  own + one day of the ranking index (``models._ranking_index``), counted there;
* ``rank_id_blocks`` and ``scope_sizes``: per block of subject ids, active standing rows that are
  not at the tail, and active subjects of the directory. Tail subjects below an id = block sums
  below it + one block counted directly (primary keys).

A branch (a few hundred members) has only its size counted: the rest is counted directly over
the ranking index, bounded by its size. A board (``top``) is the first n entries of that index.

Writes are pure inputs from the pipeline, in its transaction: ``apply_standing_moves`` for every
standing row that appears, changes or disappears (also when only its place or active flag changes),
``apply_directory_moves`` for every directory change (new subject, place, active). Each call sums
its deltas in memory, then writes one batched upsert per table, keys in order (two transactions
never lock counter rows in opposite orders). The reads rely on one invariant: an active standing
row belongs to an active subject of the directory with the same place. ``rebuild`` recomputes
every counter from the two tables.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import ROUND_FLOOR, Decimal
from typing import Iterable, NamedTuple

import eventlet
from sqlalchemy import Date, and_, bindparam, cast, delete, func, literal, not_, or_, select, tuple_

from services.stars import rankings
from services.stars.scoring import shown
from services.stars.models import (RankBucket, RankIdBlock, RankTie, ScopeSize, StandingRow,
                                   Subject)

buckets = RankBucket.__table__
ties = RankTie.__table__
id_blocks = RankIdBlock.__table__
sizes = ScopeSize.__table__
standings = StandingRow.__table__
subjects = Subject.__table__

SCOPES_OF = {"member": ("branch", "township", "county"), "branch": ("township", "county"),
             "committee": ("county",)}
COUNTED = ("township", "county")  # scopes with counters; a branch is counted directly
SCORE, BAND, LEVEL = 0, 1, 2  # grains of rank_buckets
BLOCK, GROUP = 256, 16_384  # widths of the id blocks (GROUP is a multiple of BLOCK)
WHOLE = 0  # scope_sizes width of the whole scope
NEVER = date.max.toordinal() + 1  # rank_ties day of rows never reached (after every day)
QUANTUM = Decimal("0.0001")  # the precision of standings.score
ZERO = Decimal(0)
CHUNK = 5_000  # rows per statement, and between yields, in ``rebuild``


@dataclass(frozen=True)
class Entry:
    """A standing row as the counters see it (place and active flag copied from the directory)."""

    level: int
    score: Decimal
    reached_at: datetime | None
    branch_id: int | None
    township_id: int | None
    active: bool = True


class Place(NamedTuple):
    """A subject's place in the directory."""

    branch_id: int | None
    township_id: int | None
    active: bool = True


def scope_ids(kind, branch_id, township_id) -> dict[str, int]:
    """The scopes a subject of ``kind`` with this place belongs to: scope kind -> scope id (0 for
    the county); a scope whose id is unknown (None) is left out."""
    ids = {"branch": branch_id, "township": township_id, "county": 0}
    return {scope: ids[scope] for scope in SCOPES_OF[kind] if ids[scope] is not None}


def _score(value) -> Decimal:
    return Decimal(value).quantize(QUANTUM)


def _band(score: Decimal) -> Decimal:
    return score.to_integral_value(rounding=ROUND_FLOOR)


def _aware(moment):
    """SQLite hands timestamps back naive: they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _day(moment) -> int:
    """The ``rank_ties`` day of a reached_at: its UTC date's ordinal (NEVER for None)."""
    if moment is None:
        return NEVER
    return _aware(moment).astimezone(timezone.utc).date().toordinal()


def _at_tail(level, score, reached_at) -> bool:
    """Level 0, score 0, never reached: where subjects without a row stand (then ranked by id)."""
    return level == 0 and score == 0 and reached_at is None


# -- writes --------------------------------------------------------------------------------------

def _upsert(session, table, deltas: dict):
    """Add each delta to its counter row (created when missing): one executemany, keys in order."""
    keys = [c.name for c in table.primary_key.columns]
    rows = [dict(zip(keys + ["subjects"], key + (delta,)))
            for key, delta in sorted(deltas.items()) if delta]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={"subjects": table.c.subjects + statement.excluded.subjects})
    session.execute(statement, rows)


def _row_deltas(counts, kind, subject_id, period, entry, sign):  # noqa: D401
    """Count (sign +1) or uncount (-1) an active standing row in its counted scopes."""
    score = _score(entry.score)
    for scope, scope_id in scope_ids(kind, entry.branch_id, entry.township_id).items():
        if scope not in COUNTED:
            continue
        where = (kind, period, scope, scope_id)
        counts[buckets][where + (SCORE, entry.level, score)] += sign
        counts[buckets][where + (BAND, entry.level, _band(score))] += sign
        counts[buckets][where + (LEVEL, entry.level, ZERO)] += sign
        counts[ties][where + (entry.level, score, _day(entry.reached_at))] += sign
        if not _at_tail(entry.level, score, entry.reached_at):
            counts[id_blocks][where + (BLOCK, subject_id // BLOCK)] += sign
            counts[id_blocks][where + (GROUP, subject_id // GROUP)] += sign


class Counts:
    """Counter changes gathered over a transaction, written at its end (``write``) in one fixed
    order of tables and keys. The county's counters are shared by every partition's consumer:
    taking their row locks late, briefly and always in the same order keeps concurrent batches
    from deadlocking on them."""

    ORDER = (sizes, buckets, ties, id_blocks)

    def __init__(self):
        self.deltas = {table: defaultdict(int) for table in self.ORDER}

    def standing_moves(self, moves: Iterable[tuple]):
        """``moves``: ``(kind, subject_id, period, before, after)``, each figure an ``Entry`` or
        None (no row). An active ``before`` leaves each of its scopes, an active ``after``
        enters them (a subject may move several times: the deltas add up)."""
        for kind, subject_id, period, before, after in moves:
            for sign, entry in ((-1, before), (1, after)):
                if entry is not None and entry.active:
                    _row_deltas(self.deltas, kind, subject_id, period, entry, sign)

    def directory_moves(self, moves: Iterable[tuple]):
        """``moves``: ``(kind, subject_id, before, after)``, each a ``Place`` (or a tuple
        ``branch_id, township_id, active``) or None (not in the directory). Only active places
        count."""
        for kind, subject_id, before, after in moves:
            for sign, place in ((-1, before), (1, after)):
                if place is not None and Place(*place).active:
                    _size_deltas(self.deltas[sizes], kind, subject_id, Place(*place), sign)

    def write(self, session):
        for table in self.ORDER:
            _upsert(session, table, self.deltas[table])
            self.deltas[table].clear()


def apply_standing_moves(session, moves: Iterable[tuple]) -> None:
    """Count standing-row changes into ``rank_buckets``, ``rank_ties`` and ``rank_id_blocks``
    now (see ``Counts.standing_moves``)."""
    counts = Counts()
    counts.standing_moves(moves)
    counts.write(session)


def _size_deltas(deltas, kind, subject_id, place, sign):
    for scope, scope_id in scope_ids(kind, place.branch_id, place.township_id).items():
        deltas[(kind, scope, scope_id, WHOLE, 0)] += sign
        if scope in COUNTED:
            deltas[(kind, scope, scope_id, BLOCK, subject_id // BLOCK)] += sign
            deltas[(kind, scope, scope_id, GROUP, subject_id // GROUP)] += sign


def apply_directory_moves(session, moves: Iterable[tuple]) -> None:
    """Count directory changes into ``scope_sizes`` now (see ``Counts.directory_moves``)."""
    counts = Counts()
    counts.directory_moves(moves)
    counts.write(session)


def _per_scope(session, scope, table, kind_column, columns, where):
    """``(kind, scope_id, *columns, count)`` grouped in SQL, for every kind ranked in ``scope``."""
    kinds = [kind for kind, scopes in SCOPES_OF.items() if scope in scopes]
    by = [] if scope == "county" else [table.c[f"{scope}_id"]]
    query = select(kind_column, *by, *columns, func.count()) \
        .where(kind_column.in_(kinds), *[c.is_not(None) for c in by], *where) \
        .group_by(kind_column, *by, *columns)
    for number, row in enumerate(session.execute(query)):
        if number % CHUNK == CHUNK - 1:
            eventlet.sleep(0)
        yield (row[0], 0, *row[1:]) if scope == "county" else tuple(row)


def _write_fresh(session, table, counts):
    keys = [c.name for c in table.primary_key.columns] + ["subjects"]
    rows = [dict(zip(keys, key + (count,))) for key, count in sorted(counts.items()) if count]
    for start in range(0, len(rows), CHUNK):
        session.execute(table.insert(), rows[start:start + CHUNK])
        eventlet.sleep(0)
    return len(rows)


def rebuild(session) -> dict:
    """Recompute every counter from ``standings`` and ``subjects`` (after a migration, or to check
    the maintained ones): grouped in SQL, written in chunks, yielding to eventlet between them.
    Returns the number of rows written per table."""
    counts = {table: defaultdict(int) for table in (buckets, ties, id_blocks, sizes)}
    c = standings.c
    if session.get_bind().dialect.name == "postgresql":
        day = cast(func.timezone("UTC", c.reached_at), Date)
    else:
        day = func.date(c.reached_at)
    tail = and_(c.level == 0, c.score == 0, c.reached_at.is_(None))
    for scope in COUNTED:
        for kind, scope_id, period, level, score, reached_on, count in _per_scope(
                session, scope, standings, c.subject_kind, [c.period, c.level, c.score, day],
                [c.active]):
            score, key = _score(score), (kind, period, scope, scope_id)
            if isinstance(reached_on, str):  # SQLite
                reached_on = date.fromisoformat(reached_on)
            day_number = NEVER if reached_on is None else reached_on.toordinal()
            counts[ties][key + (level, score, day_number)] += count
            counts[buckets][key + (SCORE, level, score)] += count
            counts[buckets][key + (BAND, level, _band(score))] += count
            counts[buckets][key + (LEVEL, level, ZERO)] += count
        for kind, scope_id, period, block, count in _per_scope(
                session, scope, standings, c.subject_kind, [c.period, c.subject_id // BLOCK],
                [c.active, not_(tail)]):
            key = (kind, period, scope, scope_id)
            counts[id_blocks][key + (BLOCK, block)] += count
            counts[id_blocks][key + (GROUP, block * BLOCK // GROUP)] += count
    for scope in ("branch",) + COUNTED:
        for kind, scope_id, block, count in _per_scope(
                session, scope, subjects, subjects.c.kind, [subjects.c.id // BLOCK],
                [subjects.c.active]):
            key = (kind, scope, scope_id)
            counts[sizes][key + (WHOLE, 0)] += count
            if scope in COUNTED:
                counts[sizes][key + (BLOCK, block)] += count
                counts[sizes][key + (GROUP, block * BLOCK // GROUP)] += count
    for table in counts:
        session.execute(delete(table))
    return {table.name: _write_fresh(session, table, found) for table, found in counts.items()}


# -- reads ---------------------------------------------------------------------------------------

def _in(table, scope):
    """The scope condition on ``standings`` or ``subjects`` (none for the county)."""
    if scope == "county":
        return []
    column = table.c[f"{scope}_id"]
    return [column == bindparam("scope_id", type_=column.type)]


def _ranked(scope, *conditions):
    """How many active standing rows of the kind and period in the scope meet ``conditions``."""
    return select(func.count()).select_from(standings).where(
        standings.c.subject_kind == bindparam("kind"), standings.c.period == bindparam("period"),
        standings.c.active, *_in(standings, scope), *conditions).scalar_subquery()


def _summed(table, *conditions):
    """The sum of a counter table's rows for the kind (and period) in the scope."""
    where = [table.c.subject_kind == bindparam("kind"), table.c.scope_kind == bindparam("scope"),
             table.c.scope_id == bindparam("scope_id", type_=table.c.scope_id.type)]
    if "period" in table.c:
        where.append(table.c.period == bindparam("period"))
    return select(func.coalesce(func.sum(table.c.subjects), 0)).where(*where, *conditions) \
        .scalar_subquery()


def _below_by_blocks(table, direct):
    """Counter rows of ids below ``me``: whole groups, whole blocks of the last group, then
    ``direct`` (a count from the start of ``me``'s block)."""
    return (_summed(table, table.c.width == GROUP, table.c.block < bindparam("group"))
            + _summed(table, table.c.width == BLOCK, table.c.block >= bindparam("group_start"),
                      table.c.block < bindparam("block"))
            + direct)


_RANK_STATEMENTS: dict = {}


def _rank_statement(scope, never, tail):
    """The one statement answering ``rank_of`` in a scope for a figure's shape (``never``: not
    reached; ``tail``: 0 / 0 / never). Columns: ``better`` (rows ahead on level and score),
    ``tied`` (equal level and score, ahead on reached_at and id), ``size``, ``listed`` (active
    rows in the scope) and, at the tail, ``tail_below`` (tail subjects with a lower id)."""
    key = (scope, never, tail)
    if key in _RANK_STATEMENTS:
        return _RANK_STATEMENTS[key]
    c = standings.c
    level = bindparam("level", type_=c.level.type)
    score = bindparam("score", type_=c.score.type)
    me = bindparam("me", type_=c.subject_id.type)
    reached = bindparam("reached", type_=c.reached_at.type)
    tail_row = and_(c.level == 0, c.score == 0, c.reached_at.is_(None))
    same = [c.level == level, c.score == score]
    people = select(func.count()).select_from(subjects).where(
        subjects.c.kind == bindparam("kind"), subjects.c.active, *_in(subjects, scope))
    if scope in COUNTED:
        b, t = buckets.c, ties.c
        better = (_summed(buckets, b.grain == LEVEL, b.level > level)
                  + _summed(buckets, b.grain == BAND, b.level == level, b.score > bindparam("band"))
                  + _summed(buckets, b.grain == SCORE, b.level == level, b.score > score,
                            b.score < bindparam("band_top")))
        listed = _summed(buckets, b.grain == LEVEL)
        earlier_days = _summed(ties, t.level == level, t.score == score, t.day < bindparam("day"))
        if never:
            tied = earlier_days
        else:
            tied = earlier_days + _ranked(scope, *same, c.reached_at >= bindparam(
                "day_start", type_=c.reached_at.type), tuple_(c.reached_at, c.subject_id)
                < tuple_(reached, me))
        start = bindparam("block_start", type_=c.subject_id.type)
        people_below = _below_by_blocks(sizes, people.where(
            subjects.c.id >= start, subjects.c.id < me).scalar_subquery())
        rows_below = _below_by_blocks(id_blocks, _ranked(
            scope, c.subject_id >= start, c.subject_id < me, not_(tail_row)))
    else:
        better = _ranked(scope, or_(c.level > level, and_(c.level == level, c.score > score)))
        listed = _ranked(scope)
        if never:
            tied = _ranked(scope, *same, c.reached_at.is_not(None))
        else:
            tied = _ranked(scope, *same, tuple_(c.reached_at, c.subject_id) < tuple_(reached, me))
        people_below = people.where(subjects.c.id < me).scalar_subquery()
        rows_below = _ranked(scope, c.subject_id < me, not_(tail_row))
    if never and not tail:  # never reached, not at the tail: ahead of the never-reached above it
        tied = tied + _ranked(scope, *same, c.reached_at.is_(None), c.subject_id < me)
    columns = [better.label("better"), tied.label("tied"),
               _summed(sizes, sizes.c.width == WHOLE).label("size"), listed.label("listed")]
    if tail:  # (the tail's own never-reached rows are counted here, by id)
        columns.append((people_below - rows_below).label("tail_below"))
    statement = select(*columns)
    _RANK_STATEMENTS[key] = statement
    return statement


def rank_of(session, kind, subject_id, period, scope_kind, branch_id, township_id,
            figure: Entry | None) -> dict:
    """The subject's place in one scope: ``{"scope_kind", "scope_id", "rank", "size"}``.

    ``figure`` is the subject's own standing row for ``period`` as stored (None: no row, i.e.
    level 0, score 0, never reached). An inactive subject is placed where it would stand if it
    were active (``size`` then counts it too). ``scope_id`` is None for the county; a scope whose
    id is None ranks nobody (rank None, size 0). One statement reading a few hundred rows."""
    if scope_kind not in SCOPES_OF[kind]:
        raise ValueError(f"a {kind} is not ranked by {scope_kind}")
    scope_id = scope_ids(kind, branch_id, township_id).get(scope_kind)
    shown_id = None if scope_kind == "county" else scope_id
    if scope_id is None:
        return {"scope_kind": scope_kind, "scope_id": None, "rank": None, "size": 0}
    level = figure.level if figure is not None else 0
    score = _score(figure.score) if figure is not None else ZERO
    reached = figure.reached_at if figure is not None else None
    tail = _at_tail(level, score, reached)
    band, day = _band(score), _day(reached)
    params = {"kind": kind, "period": period, "scope": scope_kind, "scope_id": scope_id,
              "level": level, "score": score, "band": band, "band_top": band + 1, "me": subject_id,
              "reached": reached, "day": day, "group": subject_id // GROUP,
              "group_start": subject_id // GROUP * (GROUP // BLOCK), "block": subject_id // BLOCK,
              "block_start": subject_id // BLOCK * BLOCK}
    if reached is not None:
        params["day_start"] = datetime.combine(date.fromordinal(day), time(), timezone.utc)
    row = session.execute(_rank_statement(scope_kind, reached is None, tail), params).one()
    ahead = row.better + row.tied
    if level == 0 and score < 0:  # every subject without a row (0 / 0 / never) is ahead
        ahead += max(0, row.size - row.listed)
    elif tail:
        ahead += row.tail_below
    active = figure is None or figure.active
    return {"scope_kind": scope_kind, "scope_id": shown_id, "rank": ahead + 1,
            "size": row.size + (0 if active else 1)}


def scope_sizes(session, kind, scope_kind, scope_ids_) -> dict:
    """Active subjects per scope (``scope_ids_``: ids, None for the county), one statement."""
    wanted = {0 if scope_kind == "county" else scope_id: scope_id for scope_id in scope_ids_}
    found = {scope_id: 0 for scope_id in scope_ids_}
    if not wanted:
        return found
    rows = session.execute(select(sizes.c.scope_id, sizes.c.subjects).where(
        sizes.c.subject_kind == kind, sizes.c.scope_kind == scope_kind,
        sizes.c.width == WHOLE, sizes.c.scope_id.in_(sorted(wanted))))
    for stored_id, number in rows:
        found[wanted[stored_id]] = number
    return found


_BOARD_STATEMENTS: dict = {}


def _board_statements(scope):
    if scope in _BOARD_STATEMENTS:
        return _BOARD_STATEMENTS[scope]
    c = standings.c
    rows = select(c.subject_id, c.level, c.score, c.reached_at).where(
        c.subject_kind == bindparam("kind"), c.period == bindparam("period"), c.active,
        *_in(standings, scope)) \
        .order_by(c.level.desc(), c.score.desc(), c.reached_at.asc().nulls_last(), c.subject_id) \
        .limit(bindparam("n"))
    has_row = select(literal(1)).where(
        c.subject_kind == subjects.c.kind, c.subject_id == subjects.c.id,
        c.period == bindparam("period")).exists()
    rowless = select(subjects.c.id).where(
        subjects.c.kind == bindparam("kind"), subjects.c.active, *_in(subjects, scope),
        ~has_row).order_by(subjects.c.id).limit(bindparam("n"))
    _BOARD_STATEMENTS[scope] = rows, rowless
    return rows, rowless


def _board(session, kind, scope_kind, scope_id, period, n) -> list[rankings.Ranked]:
    if n <= 0:
        return []
    rows, rowless = _board_statements(scope_kind)
    params = {"kind": kind, "period": period, "n": n,
              "scope_id": 0 if scope_kind == "county" else scope_id}
    chosen = [rankings.Standing(r.subject_id, r.level, _score(r.score), _aware(r.reached_at))
              for r in session.execute(rows, params)]
    last = chosen[-1] if chosen else None
    if last is None or len(chosen) < n or last.level == 0 and (
            last.score < 0 or _at_tail(last.level, last.score, last.reached_at)):
        # subjects without a row (0 / 0 / never, by id) may belong on the board
        chosen += [rankings.Standing(r.id, 0, ZERO, None) for r in session.execute(rowless, params)]
    return rankings.ranking(chosen)[:n]


def top(session, kind, scope_kind, scope_id, period, n) -> list[dict]:
    """The first ``n`` places of a scope (``scope_id`` ignored for the county), as
    ``standings.top`` gave them: ``{"rank", "subject_id", "level", "score" (text),
    "tied_with_previous"}``, padded with active subjects without a row (0 / 0 / never, by id)
    where they belong. Reads n entries of the ranking index (and, to pad, n subjects)."""
    return [{"rank": r.position, "subject_id": r.subject_id, "level": r.standing.level,
             "score": shown(r.standing.score), "tied_with_previous": r.tied_with_previous}
            for r in _board(session, kind, scope_kind, scope_id, period, n)]


def distribution(session, kind, period) -> dict[str, int]:
    """Active subjects of a kind per level ("0" to "5"), those without a row at "0": as
    ``standings.distribution`` gave it, from the county's level counters (a few rows)."""
    counts = {str(level): 0 for level in range(6)}
    where = [buckets.c.subject_kind == kind, buckets.c.period == period,
             buckets.c.scope_kind == "county", buckets.c.scope_id == 0, buckets.c.grain == LEVEL]
    for level, number in session.execute(select(buckets.c.level, buckets.c.subjects).where(*where)):
        counts[str(level)] = counts.get(str(level), 0) + number
    size = session.scalar(select(sizes.c.subjects).where(
        sizes.c.subject_kind == kind, sizes.c.scope_kind == "county", sizes.c.scope_id == 0,
        sizes.c.width == WHOLE)) or 0
    counts["0"] += max(0, size - sum(counts.values()))
    return counts


def top_threshold(session, kind, scope_kind, scope_id, period, n) -> rankings.Standing | None:
    """The standing at place ``n`` of a scope, or None when fewer than ``n`` subjects are ranked
    (then everyone is on the board). With ``on_board`` it tells whether a subject is in the first
    ``n`` without ranking it: read it before and after a batch, and publish ``ranking_changed``
    only for the changed subjects on the board before or after."""
    board = _board(session, kind, scope_kind, scope_id, period, n)
    return board[n - 1].standing if n > 0 and len(board) == n else None


def on_board(threshold: rankings.Standing | None, subject_id, figure: Entry | None) -> bool:
    """Whether a subject with ``figure`` (None: no row) is within the board whose last place is
    ``threshold`` (``top_threshold`` on the same data)."""
    if threshold is None:
        return True
    own = rankings.Standing(subject_id, figure.level if figure else 0,
                            _score(figure.score) if figure else ZERO,
                            _aware(figure.reached_at) if figure else None)
    return rankings.sort_key(own) <= rankings.sort_key(threshold)
