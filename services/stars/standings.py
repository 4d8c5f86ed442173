"""Live standings (score and level per subject and period) and the rankings read from them.

``Refresh`` recomputes, for the month, quarter and year containing a day, the own score of the
given subjects (``scoring.summarise`` over ``item_months``: caps per month), then the roll-up of
their branches and township committees (``levels.rollup_from_totals`` over aggregates read in
SQL: a branch counts the members *active in it now*, a committee its active branches, members
without a row counting 0), their levels (``levels.level_for``, vetoes force 0), and writes what
changed. ``reached_at`` is when the current score was reached (the ranking tie-break).

Rankings follow ``rankings.sort_key`` (level, score, reached_at, id) over every *active* subject
of the scope: a subject without a standing row counts as level 0, score 0, never reached. Live
rankings are counted in SQL on ``standings`` alone (each row carries its subject's branch,
township and active flag, kept in step by the directory) plus a count of ``subjects``; no join, so
the plan stays cheap on a fresh database whatever the planner guesses. Closed periods are ranked
from their frozen ``closed_results``. Hot statements are built once with bind parameters.

Concurrency (PostgreSQL): a scoring transaction takes the global advisory lock shared first,
then the branches it touches (members and branches are computed under them), then, only when a
committee can have changed, the townships: each class in id order, branches always before
townships, so there is no deadlock. Locks are held to commit, and every branch change is followed
in the same transaction by a recompute of its committee under the township lock, so the last
committer always aggregates every committed change plus its own: no lost update, and events of
different branches overlap up to their committee step. Closing and re-scoring take the global
lock exclusively. On SQLite transactions are serialised already.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

import eventlet
from sqlalchemy import (Integer, String, and_, bindparam, case, func, literal, or_, select, text,
                        tuple_, union_all, update)

from services.stars import books as books_module
from services.stars import directory, ledger, levels, periods, rankings, scoring
from services.stars.models import ClosedResult, StandingRow, Subject

standings = StandingRow.__table__
closed = ClosedResult.__table__
subjects = Subject.__table__

PERIOD_KINDS = ("month", "quarter", "year")
LIVE = "quarter"  # the provisional level (实时升降) is the quarter-to-date level
ZERO = Decimal(0)
LOCK_SPACE = 72_057  # first keys of the PostgreSQL advisory locks of this service
TOWNSHIP_LOCKS, BRANCH_LOCKS = LOCK_SPACE, LOCK_SPACE + 1
GLOBAL = -1
SCOPES_OF = {"member": ("branch", "township", "county"), "branch": ("township", "county"),
             "committee": ("county",)}
KIND_ORDER = ("member", "branch", "committee")


def now():
    return datetime.now(timezone.utc)


def shown(value) -> str:
    """A score as text: at least two decimals, at most four (the ledger's precision)."""
    text_ = format(Decimal(value).quantize(Decimal("0.0001")).normalize(), "f")
    whole, _, fraction = text_.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


# -- locks ---------------------------------------------------------------------------------------

def _advisory(session, shared_global, space, ids):
    if session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted({int(i) % 2_000_000_000 if i is not None else 0 for i in ids})
    calls = (["pg_advisory_xact_lock_shared(:g_space, :g)"] if shared_global else []) + \
        [f"pg_advisory_xact_lock(:space, :k{n})" for n in range(len(ids))]
    if calls:
        session.execute(text(f"SELECT {', '.join(calls)}"), {
            "g_space": LOCK_SPACE, "g": GLOBAL, "space": space,
            **{f"k{n}": i for n, i in enumerate(ids)}})


def lock_shared(session):
    """Start of every scoring transaction: the global lock, shared (closing and re-scoring wait
    for it exclusively, so nothing is scored into a period while it is being frozen)."""
    _advisory(session, True, BRANCH_LOCKS, ())


def lock_branches(session, branch_ids):
    """First step of a scoring transaction: the global lock shared, then each branch (in order;
    None stands for members without a branch), held to commit: a branch's members and roll-up
    are computed by one transaction at a time."""
    _advisory(session, True, BRANCH_LOCKS, branch_ids)


def lock_townships(session, township_ids):
    """Second step: each township (in order), held to commit: a committee's roll-up is computed
    by one transaction at a time, after every branch change it reads was committed or is its own."""
    _advisory(session, True, TOWNSHIP_LOCKS, township_ids)


def lock_everything(session):
    """Closing and re-scoring: the global lock, exclusively (waits for every scoring transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCK_SPACE, "b": GLOBAL})


# -- figures -------------------------------------------------------------------------------------

@dataclass
class Figure:
    score: Decimal = ZERO
    own: Decimal = ZERO
    level: int = 0
    vetoes: tuple = ()
    reached_at: object = None
    exists: bool = False
    version: str = ""


@dataclass
class Change:
    kind: str
    id: int
    keys: dict
    before: dict
    after: dict
    branch_id: int | None = None
    township_id: int | None = None
    active: bool = True

    @property
    def live_before(self) -> Figure:
        return self.before[LIVE]

    @property
    def live_after(self) -> Figure:
        return self.after[LIVE]


@dataclass
class RefreshResult:
    changes: list = field(default_factory=list)
    version: str = ""


def _figure(row) -> Figure:
    return Figure(score=Decimal(row.score), own=Decimal(row.own_score), level=row.level,
                  vetoes=tuple(row.vetoes or ()), reached_at=row.reached_at, exists=True,
                  version=row.rulebook_version)


def place_of(kind, subject_id, row) -> dict:
    """The place columns a standing row copies from its directory row."""
    row = row or {}
    return {"branch_id": row.get("branch_id") if kind == "member" else None,
            "township_id": subject_id if kind == "committee" else row.get("township_id"),
            "active": bool(row.get("active", True))}


def sync_place(session, kind, subject_id):
    """Copy a subject's directory place into its standing rows (after a directory change)."""
    values = place_of(kind, subject_id, directory.get(session, kind, subject_id))
    session.execute(update(standings).where(standings.c.subject_kind == kind,
                                            standings.c.subject_id == subject_id).values(**values))


def move_branch_members(session, branch_id, township_id):
    session.execute(update(standings).where(standings.c.subject_kind == "member",
                                            standings.c.branch_id == branch_id)
                    .values(township_id=township_id))


# -- refresh -------------------------------------------------------------------------------------

_LOAD = select(standings).where(
    tuple_(standings.c.subject_kind, standings.c.subject_id).in_(bindparam("keys", expanding=True)),
    standings.c.period.in_(bindparam("periods", expanding=True)))
PARENT_OF = {"member": "branch_id", "branch": "township_id"}
_CHILDREN = {
    kind: union_all(
        select(subjects.c[column].label("parent"), literal("", String(7)).label("period"),
               literal(-1, Integer).label("level"), func.count().label("children"),
               literal(ZERO, standings.c.score.type).label("total"))
        .where(subjects.c.kind == kind, subjects.c.active.is_(True),
               subjects.c[column].in_(bindparam("parents", expanding=True)))
        .group_by(subjects.c[column]),
        select(standings.c[column], standings.c.period, standings.c.level, func.count(),
               func.sum(standings.c.score))
        .where(standings.c.subject_kind == kind, standings.c.active.is_(True),
               standings.c.period.in_(bindparam("periods", expanding=True)),
               standings.c[column].in_(bindparam("parents", expanding=True)))
        .group_by(standings.c[column], standings.c.period, standings.c.level))
    for kind, column in PARENT_OF.items()}
_WRITTEN = ("own_score", "score", "level", "vetoes", "reached_at", "rulebook_version", "branch_id",
            "township_id", "active")
_UPSERT: dict = {}


def _upsert(session):
    """``INSERT ... ON CONFLICT (subject, period) DO UPDATE`` (built once per dialect; several rows
    go in one round trip)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERT:
        statement = directory.dialect_insert(session, standings)
        _UPSERT[dialect] = statement.on_conflict_do_update(
            index_elements=["subject_kind", "subject_id", "period"],
            set_={name: statement.excluded[name] for name in _WRITTEN})
    return _UPSERT[dialect]


class Refresh:
    """Recomputes the standings of some subjects, and of the branches and committees above them,
    for the month, quarter and year containing a day, in two steps so the caller can lock in
    between: ``lower()`` (members, then branches: a branch aggregates its active members' rows,
    with this transaction's new figures) and ``upper(committee_ids)`` (committees).
    ``committees_due(lower_result, credited)`` says which committees can have changed at all: those credited by the event and those above a branch
    whose change matters to the committee roll-up (its level for ``share_at_least``, its score
    for ``mean``/``sum``); the others are left alone, unlocked."""

    def __init__(self, session, books, keys, day, stamp=None, known=None):
        day = periods.as_date(day)
        self.session, self.books = session, books
        self.stamp = stamp or now()
        self.period_keys = {kind: periods.period_key(kind, day) for kind in PERIOD_KINDS}
        self.book_of = {kind: books_module.latest_for_period(books, key)
                        for kind, key in self.period_keys.items()}
        self.ready = all(book is not None for book in self.book_of.values())
        keys = set(keys)
        rows = dict(known or {})
        rows.update(directory.lookup(session, keys - set(rows)))
        self.members = {k for k in keys if k[0] == "member"}
        self.branch_ids = {k[1] for k in keys if k[0] == "branch"}
        self.committee_ids = {k[1] for k in keys if k[0] == "committee"}
        for key in self.members:
            row = rows.get(key)
            if row and row["branch_id"] is not None:
                self.branch_ids.add(row["branch_id"])
            elif row and row["township_id"] is not None:
                self.committee_ids.add(row["township_id"])
        rows.update(directory.lookup(session, {("branch", b) for b in self.branch_ids} - set(rows)))
        self.township_of = {}
        for branch_id in self.branch_ids:
            row = rows.get(("branch", branch_id))
            if row and row["township_id"] is not None:
                self.township_of[branch_id] = row["township_id"]
        self.rows = rows
        version = self.book_of[LIVE].version if self.book_of[LIVE] else ""
        self.stage = _Stage(session, books, self.book_of, self.period_keys, rows, self.stamp,
                            RefreshResult(version=version)) if self.ready else None

    @property
    def all_committees(self) -> set:
        return self.committee_ids | set(self.township_of.values())

    def lower(self) -> RefreshResult:
        """Members, then their branches (aggregating the members as just computed)."""
        result = RefreshResult()
        branches = {("branch", b) for b in self.branch_ids}
        if not self.ready or not (self.members or branches):
            return result
        self.stage.result = result
        self.stage.prepare(self.members | branches)
        self.stage.run(sorted(self.members))
        self.stage.run(sorted(branches), child_kind="member")
        self.stage.flush()
        return result

    def committees_due(self, lower_result, credited=()) -> set:
        due = set(credited) | self.committee_ids
        spec = self.book_of[LIVE].subjects.get("committee") if self.ready else None
        rollup = spec.rollup if spec else None
        for change in lower_result.changes:
            if change.kind != "branch" or change.id not in self.township_of or rollup is None:
                continue
            if any((change.before[k].level != change.after[k].level) if rollup.aggregate ==
                   "share_at_least" else (change.before[k].score != change.after[k].score)
                   for k in PERIOD_KINDS):
                due.add(self.township_of[change.id])
        return due

    def upper(self, committee_ids) -> RefreshResult:
        """The committees ``committee_ids`` (after the caller locked their townships)."""
        result = RefreshResult()
        committees = {("committee", c) for c in committee_ids}
        if not self.ready or not committees:
            return result
        self.rows.update(directory.lookup(self.session, committees - set(self.rows)))
        self.stage.result = result
        self.stage.prepare(committees)
        self.stage.run(sorted(committees), child_kind="branch")
        self.stage.flush()
        return result


def refresh(session, books, keys, day, stamp=None, known=None, before_committees=None) -> RefreshResult:
    """``Refresh`` in one go, every committee above the subjects included (directory changes,
    re-scoring); ``before_committees(committee_ids)`` runs in between (locks)."""
    work = Refresh(session, books, keys, day, stamp, known)
    result = work.lower()
    committees = work.all_committees
    if before_committees:
        before_committees(committees)
    result.changes += work.upper(committees).changes
    return result


class _Stage:
    """Computes the standings of subjects level by level and writes them (``flush``) in one
    statement; a level computed before the flush is taken into account, from memory, by the
    aggregates of the level above."""

    def __init__(self, session, books, book_of, period_keys, rows, stamp, result):
        self.session, self.books, self.book_of = session, books, book_of
        self.period_keys, self.rows, self.stamp, self.result = period_keys, rows, stamp, result
        self.kind_of_key = {key: kind for kind, key in period_keys.items()}
        self.pending, self.fresh = [], {}

    def flush(self):
        if self.pending:
            self.session.execute(_upsert(self.session), self.pending)
        self.pending, self.fresh = [], {}

    def prepare(self, subjects_):
        """Own summaries and current standings of ``subjects_`` (one query each)."""
        year = periods.parse_period(self.period_keys["year"])
        entries = ledger.month_rows(self.session, subjects_, year.months)
        self.summaries = {kind: scoring.summarise(self.books, entries, key)
                          for kind, key in self.period_keys.items()}
        self.before = _load(self.session, subjects_, self.period_keys)

    def run(self, subjects_, child_kind=None):
        if not subjects_:
            return
        children = self._children(child_kind, [s[1] for s in subjects_]) if child_kind else {}
        for subject in subjects_:
            figures = self._compute(subject, children.get(subject[1]) if child_kind else None)
            self.pending += self._compare(subject, figures)

    def _compute(self, subject, children):
        figures = {}
        for period_kind in PERIOD_KINDS:
            book = self.book_of[period_kind]
            if subject[0] not in book.subjects:
                figures[period_kind] = Figure(version=book.version)
                continue
            summary = self.summaries[period_kind].get(subject)
            own = summary.score if summary else ZERO
            vetoes = tuple(summary.vetoes) if summary else ()
            total = own
            if children is not None:
                count, total_score, at_level = children.get(period_kind, (0, ZERO, {}))
                total = levels.rollup_from_totals(book, subject[0], period_kind, own, count,
                                                  total_score, at_level)
            level = levels.level_for(book, subject[0], period_kind, total, bool(vetoes))
            figures[period_kind] = Figure(score=total, own=own, level=level, vetoes=vetoes,
                                          version=book.version)
        return figures

    def _compare(self, subject, new):
        old = self.before.get(subject, {})
        place = place_of(subject[0], subject[1], self.rows.get(subject))
        written = []
        for period_kind, key in self.period_keys.items():
            previous = old.get(period_kind) or Figure()
            figure = new[period_kind]
            same = previous.exists and previous.score == figure.score and previous.own == figure.own \
                and previous.level == figure.level and previous.vetoes == figure.vetoes
            if same or (not previous.exists and figure.score == ZERO and not figure.vetoes
                        and figure.level == 0):
                figure.reached_at, figure.exists = previous.reached_at, previous.exists
                continue
            figure.reached_at = self.stamp if figure.score != previous.score or not previous.exists \
                else previous.reached_at
            figure.exists = True
            written.append({"subject_kind": subject[0], "subject_id": subject[1], "period": key,
                            "own_score": figure.own, "score": figure.score, "level": figure.level,
                            "vetoes": list(figure.vetoes), "reached_at": figure.reached_at,
                            "rulebook_version": figure.version, **place})
        self.fresh[subject] = (place, {k: old.get(k) or Figure() for k in PERIOD_KINDS}, new)
        if written:
            self.result.changes.append(Change(
                kind=subject[0], id=subject[1], keys=dict(self.period_keys),
                before={k: old.get(k) or Figure() for k in PERIOD_KINDS}, after=new,
                branch_id=place["branch_id"], township_id=place["township_id"],
                active=place["active"]))
        return written

    def _children(self, child_kind, parent_ids):
        """parent id -> {period kind: (active children, sum of their scores, {level: count})}, from
        the rows as this transaction sees them (children without a row count as 0 at level 0)."""
        found: dict = {}
        rows = self.session.execute(_CHILDREN[child_kind], {
            "parents": sorted(parent_ids), "periods": list(self.period_keys.values())}).all()
        for row in rows:
            if row.level == -1:
                found[row.parent] = {kind: [row.children, ZERO, {}] for kind in PERIOD_KINDS}
        for row in rows:
            if row.level == -1 or row.parent not in found:
                continue
            entry = found[row.parent][self.kind_of_key[row.period]]
            entry[1] += Decimal(row.total)
            entry[2][row.level] = entry[2].get(row.level, 0) + row.children
        parent_column = PARENT_OF[child_kind]
        for (kind, _), (place, before, after) in self.fresh.items():
            # computed in this transaction, not written yet: the rows still hold ``before``
            parent = place[parent_column]
            if kind != child_kind or parent not in found or not place["active"]:
                continue
            for period_kind in PERIOD_KINDS:
                entry, old, new = found[parent][period_kind], before[period_kind], after[period_kind]
                if old.exists:
                    entry[1] -= old.score
                    entry[2][old.level] = entry[2].get(old.level, 0) - 1
                if new.exists:
                    entry[1] += new.score
                    entry[2][new.level] = entry[2].get(new.level, 0) + 1
        for per_kind in found.values():
            for entry in per_kind.values():
                listed = sum(entry[2].values())
                if entry[0] > listed:
                    entry[2][0] = entry[2].get(0, 0) + entry[0] - listed
        return {parent: {kind: tuple(entry) for kind, entry in per_kind.items()}
                for parent, per_kind in found.items()}


def _load(session, keys, period_keys) -> dict[tuple, dict]:
    found: dict[tuple, dict] = {}
    if not keys:
        return found
    kind_of_key = {key: kind for kind, key in period_keys.items()}
    for row in session.execute(_LOAD, {"keys": sorted(keys), "periods": list(period_keys.values())}):
        found.setdefault((row.subject_kind, row.subject_id), {})[kind_of_key[row.period]] = _figure(row)
    return found


# -- live rankings -------------------------------------------------------------------------------

SCOPE_COLUMN = {"branch": "branch_id", "township": "township_id", "county": None}


def scope_id_of(scope_kind, branch_id, township_id):
    return {"branch": branch_id, "township": township_id, "county": None}[scope_kind]


def _better(table, prefix, reached_is_none):
    """Rows of ``table`` ranked before the figure bound as ``{prefix}_level/_score/_reached``
    (``rankings.sort_key`` order; the row's own id is ``subject_id``, the figure's ``me``)."""
    level, score, reached = table.c.level, table.c.score, table.c.reached_at
    me = bindparam("me", type_=table.c.subject_id.type)
    my_level = bindparam(f"{prefix}_level", type_=table.c.level.type)
    my_score = bindparam(f"{prefix}_score", type_=table.c.score.type)
    if reached_is_none:
        reach = or_(reached.is_not(None), and_(reached.is_(None), table.c.subject_id < me))
    else:
        my_reached = bindparam(f"{prefix}_reached", type_=reached.type)
        reach = and_(reached.is_not(None), or_(reached < my_reached,
                                               and_(reached == my_reached, table.c.subject_id < me)))
    return or_(level > my_level, and_(level == my_level, or_(score > my_score,
                                                              and_(score == my_score, reach))))


def _in_scope(table, id_column, scope_kind):
    column = SCOPE_COLUMN[scope_kind]
    return None if column is None else table.c[column] == bindparam(f"scope_{scope_kind}",
                                                                    type_=id_column.type)


def _sum(*conditions):
    conditions = [c for c in conditions if c is not None]
    condition = conditions[0] if len(conditions) == 1 else and_(*conditions)
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_RANK_STATEMENTS: dict = {}


def _rank_statements(kind, nones):
    """One statement counting, per scope of ``kind``: standing rows, those with a lower id, those
    ranked before each figure (``nones``: whether each has no reached_at); then, per scope, active
    subjects and those with a lower id."""
    cached = _RANK_STATEMENTS.get((kind, nones))
    if cached is not None:
        return cached
    scopes = SCOPES_OF[kind]
    me = bindparam("me", type_=standings.c.subject_id.type)
    columns = []
    for scope in scopes:
        where = _in_scope(standings, standings.c.subject_id, scope)
        columns += [_sum(where, standings.c.subject_id.is_not(None)),
                    _sum(where, standings.c.subject_id < me)]
        columns += [_sum(where, _better(standings, f"f{i}", none)) for i, none in enumerate(nones)]
    people = []
    for scope in scopes:
        where = _in_scope(subjects, subjects.c.id, scope)
        people += [_sum(where, subjects.c.id.is_not(None)), _sum(where, subjects.c.id < me)]
    rows = select(*[c.label(f"r{n}") for n, c in enumerate(columns)]).where(
        standings.c.subject_kind == kind, standings.c.period == bindparam("period"),
        standings.c.active.is_(True), standings.c.subject_id != me).subquery()
    everyone = select(*[c.label(f"p{n}") for n, c in enumerate(people)]).where(
        subjects.c.kind == kind, subjects.c.active.is_(True), subjects.c.id != me).subquery()
    statement = select(*rows.c, *everyone.c).select_from(rows.join(everyone, literal(True)))
    _RANK_STATEMENTS[(kind, nones)] = statement
    return statement


def live_ranks(session, kind, subject_id, figures, branch_id, township_id, period_key) -> dict:
    """For each scope of ``kind``: ``(others, [number ranked before each figure])``, as if the
    subject had each figure in turn (everyone else as they stand)."""
    nones = tuple(f.reached_at is None for f in figures)
    statement = _rank_statements(kind, nones)
    params = {"me": subject_id, "period": period_key, "scope_branch": branch_id,
              "scope_township": township_id}
    for i, figure in enumerate(figures):
        params.update({f"f{i}_level": figure.level, f"f{i}_score": figure.score})
        if figure.reached_at is not None:
            params[f"f{i}_reached"] = figure.reached_at
    counted = session.execute(statement, params).one()
    scopes = SCOPES_OF[kind]
    width = 2 + len(figures)
    people = counted[len(scopes) * width:]
    result = {}
    for number, scope in enumerate(scopes):
        with_row, with_row_lower, *better = counted[number * width:(number + 1) * width]
        others, lower = people[number * 2:number * 2 + 2]
        without_row, without_row_lower = others - with_row, lower - with_row_lower
        ahead = []
        for figure, ranked_before in zip(figures, better):
            # subjects without a row stand at level 0, score 0, never reached
            if figure.level == 0 and figure.score < 0:
                ranked_before += without_row
            elif figure.level == 0 and figure.score == 0 and figure.reached_at is None:
                ranked_before += without_row_lower
            ahead.append(ranked_before)
        result[scope] = (others, ahead)
    return result


_TOP_STATEMENTS: dict = {}


def _top_statements(kind, scope_kind):
    cached = _TOP_STATEMENTS.get((kind, scope_kind))
    if cached is not None:
        return cached
    where = _in_scope(standings, standings.c.subject_id, scope_kind)
    rows = select(standings.c.subject_id, standings.c.level, standings.c.score,
                  standings.c.reached_at).where(
        standings.c.subject_kind == kind, standings.c.period == bindparam("period"),
        standings.c.active.is_(True), *([where] if where is not None else [])) \
        .order_by(standings.c.level.desc(), standings.c.score.desc(),
                  case((standings.c.reached_at.is_(None), 1), else_=0), standings.c.reached_at,
                  standings.c.subject_id).limit(bindparam("n"))
    listed = select(standings.c.subject_id).where(standings.c.subject_kind == kind,
                                                  standings.c.period == bindparam("period"))
    where = _in_scope(subjects, subjects.c.id, scope_kind)
    unlisted = select(subjects.c.id).where(
        subjects.c.kind == kind, subjects.c.active.is_(True), subjects.c.id.not_in(listed),
        *([where] if where is not None else [])).order_by(subjects.c.id).limit(bindparam("n"))
    _TOP_STATEMENTS[(kind, scope_kind)] = rows, unlisted
    return rows, unlisted


def _live_top(session, kind, scope_kind, scope_id, period_key, n) -> list[rankings.Standing]:
    rows, unlisted = _top_statements(kind, scope_kind)
    params = {"period": period_key, "n": n, f"scope_{scope_kind}": scope_id}
    chosen = [rankings.Standing(row.subject_id, row.level, Decimal(row.score), row.reached_at)
              for row in session.execute(rows, params)]
    if len(chosen) < n or chosen[-1].level == 0 and chosen[-1].score <= 0:
        # subjects without a row (level 0, score 0, never reached) may belong on the board
        chosen += [rankings.Standing(row.id, 0, ZERO, None)
                   for row in session.execute(unlisted, params)]
    return chosen


# -- closed rankings -----------------------------------------------------------------------------

def _closed_where(kind, period_key, scope_kind, scope_id):
    where = [closed.c.period == period_key, closed.c.subject_kind == kind]
    column = SCOPE_COLUMN[scope_kind]
    if column is not None:
        where.append(closed.c[column] == scope_id)
    return where


def _closed_better(figure, subject_id):
    level, score, reached = closed.c.level, closed.c.score, closed.c.reached_at
    if figure.reached_at is None:
        reach = or_(reached.is_not(None), and_(reached.is_(None), closed.c.subject_id < subject_id))
    else:
        reach = and_(reached.is_not(None), or_(reached < figure.reached_at, and_(
            reached == figure.reached_at, closed.c.subject_id < subject_id)))
    return or_(level > figure.level, and_(level == figure.level, or_(
        score > figure.score, and_(score == figure.score, reach))))


# -- answers -------------------------------------------------------------------------------------

def top(session, kind, scope_kind, scope_id, period_key, n, closed_period=False) -> list[dict]:
    if closed_period:
        query = select(closed.c.subject_id, closed.c.level, closed.c.score, closed.c.reached_at) \
            .where(*_closed_where(kind, period_key, scope_kind, scope_id)) \
            .order_by(closed.c.level.desc(), closed.c.score.desc(),
                      case((closed.c.reached_at.is_(None), 1), else_=0), closed.c.reached_at,
                      closed.c.subject_id).limit(n)
        chosen = [rankings.Standing(row.subject_id, row.level, Decimal(row.score), row.reached_at)
                  for row in session.execute(query)]
    else:
        chosen = _live_top(session, kind, scope_kind, scope_id, period_key, n)
    return [{"rank": ranked.position, "subject_id": ranked.subject_id, "level": ranked.standing.level,
             "score": shown(ranked.standing.score), "tied_with_previous": ranked.tied_with_previous}
            for ranked in rankings.ranking(chosen)[:n]]


def rank_in(session, kind, subject_id, figure, scope_kind, branch_id, township_id, period_key,
            closed_period=False) -> dict:
    scope_id = scope_id_of(scope_kind, branch_id, township_id)
    if closed_period:
        where = _closed_where(kind, period_key, scope_kind, scope_id) + [closed.c.subject_id != subject_id]
        others, better = session.execute(select(func.count(), _sum(_closed_better(figure, subject_id)))
                                         .where(*where)).one()
    else:
        others, (better,) = live_ranks(session, kind, subject_id, [figure], branch_id, township_id,
                                       period_key)[scope_kind]
    return {"scope_kind": scope_kind, "scope_id": scope_id, "rank": better + 1, "size": others + 1}


def figure_of(session, kind, subject_id, period_key, closed_period=False) -> Figure | None:
    if closed_period:
        row = session.execute(select(closed).where(
            closed.c.period == period_key, closed.c.subject_kind == kind,
            closed.c.subject_id == subject_id)).first()
        if row is None:
            return None
        return Figure(score=Decimal(row.score), own=Decimal(row.own_score), level=row.level,
                      vetoes=tuple(row.vetoes or ()), reached_at=row.reached_at, exists=True)
    row = session.execute(select(standings).where(
        standings.c.subject_kind == kind, standings.c.subject_id == subject_id,
        standings.c.period == period_key)).first()
    return _figure(row) if row is not None else Figure()


def ranking_changes(session, changes, top_n) -> list[dict]:
    """``ranking_changed`` payloads: for the live period, every scope where a changed, active
    subject moved into, out of or within the first ``top_n`` places (the published board). A move
    further down changes no board and publishes nothing; ``rank_of`` answers for anyone."""
    found = []
    for change in changes:
        old, new = change.live_before, change.live_after
        if not change.active or (old.level == new.level and old.score == new.score):
            continue
        key = change.keys[LIVE]
        counted = live_ranks(session, change.kind, change.id, [old, new], change.branch_id,
                             change.township_id, key)
        for scope_kind in SCOPES_OF[change.kind]:
            scope_id = scope_id_of(scope_kind, change.branch_id, change.township_id)
            if scope_kind != "county" and scope_id is None:
                continue
            others, (before, after) = counted[scope_kind]
            old_rank, new_rank = before + 1, after + 1
            if old_rank == new_rank or min(old_rank, new_rank) > top_n:
                continue
            found.append({"subject_kind": change.kind, "scope_kind": scope_kind, "scope_id": scope_id,
                          "period": key, "subject_id": change.id, "old_rank": old_rank,
                          "new_rank": new_rank, "size": others + 1,
                          "top": top(session, change.kind, scope_kind, scope_id, key, top_n)})
    return found


def score_changed_payload(change: Change, day: date, cause, source_event_id=None) -> dict:
    after, before = change.after, change.before
    live = after[LIVE]
    return {"subject_kind": change.kind, "subject_id": change.id, "branch_id": change.branch_id,
            "township_id": change.township_id, "occurred_on": day, "cause": cause,
            "rulebook_version": live.version, "source_event_id": source_event_id,
            **{kind: change.keys[kind] for kind in PERIOD_KINDS},
            **{f"{kind}_score": shown(after[kind].score) for kind in PERIOD_KINDS},
            **{f"{kind}_level": after[kind].level for kind in PERIOD_KINDS},
            "score": shown(live.score), "level": live.level,
            "previous_score": shown(before[LIVE].score), "previous_level": before[LIVE].level,
            "vetoed": bool(live.vetoes)}


def level_changed_payload(change: Change) -> dict | None:
    old, new = change.live_before, change.live_after
    if old.level == new.level:
        return None
    return {"subject_kind": change.kind, "subject_id": change.id, "old_level": old.level,
            "new_level": new.level, "period": change.keys[LIVE], "score": shown(new.score),
            "vetoes": list(new.vetoes)}


def distribution(session, kind, period_key, closed_period=False) -> dict:
    counts = {str(level): 0 for level in range(6)}
    if closed_period:
        query = select(closed.c.level, func.count()).where(
            closed.c.period == period_key, closed.c.subject_kind == kind).group_by(closed.c.level)
        for level, number in session.execute(query):
            counts[str(level)] = number
        return counts
    listed = 0
    for level, number in session.execute(select(standings.c.level, func.count()).where(
            standings.c.subject_kind == kind, standings.c.period == period_key,
            standings.c.active.is_(True)).group_by(standings.c.level)):
        counts[str(level)] += number
        listed += number
    everyone = session.scalar(select(func.count()).select_from(subjects).where(
        subjects.c.kind == kind, subjects.c.active.is_(True)))
    counts["0"] += max(0, everyone - listed)
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
    for (subject_id,) in session.execute(select(subjects.c.id).where(
            subjects.c.kind == kind, subjects.c.active.is_(True))):
        found.setdefault(subject_id, rankings.Standing(subject_id, 0, ZERO, None))
    return list(found.values())
