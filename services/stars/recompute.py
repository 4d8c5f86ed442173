"""Recompute the standings a batch touched, once per subject, level by level.

For the month, quarter and year of one month group: the touched members' own scores
(``scoring.summarise_periods`` over ``item_months``), then their branches (own items plus the
roll-up of the branch's active members, aggregated in SQL over the rows just written), then the
township committees above (the same over their active branches). Each level is written in one
statement before the level above aggregates it, so a roll-up always reads every committed child
plus this transaction's own. Only figures that changed are written; each changed subject gives one
``figures.Change``.

The subjects of one township are recomputed by one consumer at a time (the stars subscription is
partitioned by township); ``unit_locks`` covers the rare batch that reaches across partitions.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Integer, String, bindparam, func, literal, select, union_all

from services.stars import books as books_module
from services.stars import directory, figures, ledger, levels, periods, ranks, scoring, unit_locks
from services.stars.figures import PERIOD_KINDS, ZERO, Change, Figure

standings = figures.standings
subjects = directory.subjects
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


def children_totals(session, child_kind, parent_ids, period_keys) -> dict:
    """parent id -> {period key: levels.Children} over the parent's ACTIVE children as written
    (children without a standing row count as score 0, level 0)."""
    found: dict = {}
    if not parent_ids:
        return found
    rows = session.execute(_CHILDREN[child_kind], {"parents": sorted(parent_ids),
                                                   "periods": sorted(period_keys)}).all()
    counted = {row.parent: row.children for row in rows if row.level == -1}
    sums: dict = {}
    for row in rows:
        if row.level == -1 or row.parent not in counted:
            continue
        total, at_level = sums.setdefault((row.parent, row.period), [ZERO, {}])
        sums[(row.parent, row.period)][0] = total + Decimal(row.total)
        at_level[row.level] = at_level.get(row.level, 0) + row.children
    for parent, children in counted.items():
        for key in period_keys:
            total, at_level = sums.get((parent, key), [ZERO, {}])
            listed = sum(at_level.values())
            if children > listed:
                at_level = {**at_level, 0: at_level.get(0, 0) + children - listed}
            found.setdefault(parent, {})[key] = levels.Children(children, total, at_level)
    return found


class MonthGroup:
    """The standings of one month group: ``day_of`` maps every touched ``(kind, id)`` to the
    latest date of the facts behind it (all in one month)."""

    def __init__(self, session, books, day_of, stamp, boards=None, counts=None):
        self.session, self.books, self.stamp, self.boards = session, books, stamp, boards
        self.counts = counts if counts is not None else ranks.Counts()
        day = max(day_of.values())
        self.keys = {kind: periods.period_key(kind, day) for kind in PERIOD_KINDS}
        self.book_of = {kind: books_module.latest_for_period(books, key)
                        for kind, key in self.keys.items()}
        self.day_of = dict(day_of)
        self.rows = directory.lookup(session, set(day_of))
        self._add_parents()
        keys = {unit_locks.key_of(kind, subject_id, self.rows.get((kind, subject_id)))
                for kind, subject_id in self.day_of}
        unit_locks.lock(session, keys)
        self.rows = directory.lookup(session, set(self.day_of))  # as of the locks
        self._add_parents()
        unit_locks.lock(session, {unit_locks.key_of(kind, subject_id, self.rows.get((kind, subject_id)))
                                  for kind, subject_id in self.day_of} - keys)

    def _add_parents(self):
        for kind, parent_kind in (("member", "branch"), ("branch", "committee")):
            above = {}
            for key, day in self.day_of.items():
                if key[0] != kind:
                    continue
                row = self.rows.get(key) or {}
                parent = row.get("branch_id") if kind == "member" else None
                parent_key = ("branch", parent) if parent is not None else \
                    ("committee", row["township_id"]) if row.get("township_id") is not None else None
                if parent_key is not None:
                    above[parent_key] = max(day, above.get(parent_key, day))
            for key, day in above.items():
                self.day_of[key] = max(day, self.day_of.get(key, day))
            self.rows.update(directory.lookup(self.session, set(above) - set(self.rows)))

    def run(self) -> list[Change]:
        if any(book is None for book in self.book_of.values()):
            return []
        touched = set(self.day_of)
        year_months = periods.parse_period(self.keys["year"]).months
        entries = ledger.month_rows(self.session, touched, year_months)
        self.summaries = scoring.summarise_periods(self.books, entries, self.keys.values())
        self.before = figures.load(self.session, touched, self.keys.values())
        changes = []
        for kind, child_kind in (("member", None), ("branch", "member"), ("committee", "branch")):
            chosen = sorted(key for key in touched if key[0] == kind)
            children = children_totals(self.session, child_kind, [k[1] for k in chosen],
                                       self.keys.values()) if child_kind and chosen else {}
            written, level_changes = [], []
            for key in chosen:
                change, rows = self._compare(key, self._compute(key, children.get(key[1])
                                                                if child_kind else None))
                written += rows
                if change is not None:
                    level_changes.append(change)
            if self.boards is not None:
                self.boards.take("before", level_changes)
            figures.upsert(self.session, written)
            self.counts.standing_moves(moves_of(level_changes))
            if self.boards is not None:
                self.boards.take("after", level_changes)
            changes += level_changes
        return changes

    def _compute(self, key, children) -> dict[str, Figure]:
        result = {}
        for period_kind, period_key in self.keys.items():
            book = self.book_of[period_kind]
            if key[0] not in book.subjects:
                result[period_kind] = Figure(version=book.version)
                continue
            summary = self.summaries[period_key].get(key)
            own = summary.score if summary else ZERO
            vetoes = tuple(summary.vetoes) if summary else ()
            total = own
            if children is not None:
                total = levels.rollup(book, key[0], period_kind, own,
                                      children.get(period_key, levels.NO_CHILDREN))
            level = levels.level_for(book, key[0], period_kind, total, bool(vetoes))
            result[period_kind] = Figure(score=total, own=own, level=level, vetoes=vetoes,
                                         version=book.version)
        return result

    def _compare(self, key, new):
        old_rows = self.before.get(key, {})
        old = {kind: old_rows.get(period_key) or Figure() for kind, period_key in self.keys.items()}
        place = figures.place_of(key[0], key[1], self.rows.get(key))
        written = []
        for period_kind, period_key in self.keys.items():
            previous, figure = old[period_kind], new[period_kind]
            if previous.exists and previous.same_as(figure) or (
                    not previous.exists and figure.score == ZERO and not figure.vetoes
                    and figure.level == 0):
                figure.reached_at, figure.exists = previous.reached_at, previous.exists
                continue
            changed_score = figure.score != previous.score or not previous.exists
            figure.reached_at = self.stamp if changed_score else previous.reached_at
            figure.exists = True
            written.append({"subject_kind": key[0], "subject_id": key[1], "period": period_key,
                            "own_score": figure.own, "score": figure.score, "level": figure.level,
                            "vetoes": list(figure.vetoes), "reached_at": figure.reached_at,
                            "rulebook_version": figure.version, **place})
        if not written:
            return None, []
        return Change(kind=key[0], id=key[1], keys=dict(self.keys), before=old, after=new,
                      branch_id=place["branch_id"], township_id=place["township_id"],
                      active=place["active"], day=self.day_of[key]), written


def moves_of(changes) -> list[tuple]:
    """The standing rows the changes wrote, as ``ranks.apply_standing_moves`` reads them."""
    moves = []
    for change in changes:
        for period_kind, period_key in change.keys.items():
            old, new = change.before[period_kind], change.after[period_kind]
            if not new.exists or (old.exists and old.same_as(new) and
                                  old.reached_at == new.reached_at):
                continue
            moves.append((change.kind, change.id, period_key,
                          _entry(old, change) if old.exists else None, _entry(new, change)))
    return moves


def _entry(figure, change):
    return ranks.Entry(figure.level, figure.score, figure.reached_at, change.branch_id,
                       change.township_id, change.active)


def recompute(session, books, touched, stamp, boards=None, counts=None) -> list[Change]:
    """Recompute every touched subject (``((kind, id), date of a fact)`` pairs) and the units
    above it, one month group at a time (months in order); ``boards`` (``boards.Boards``)
    snapshots the boards around each write; the rank counters' changes are added to ``counts``
    (``ranks.Counts``, written by the caller; written here when not given)."""
    own = counts is None
    counts = ranks.Counts() if own else counts
    by_month: dict = {}
    for key, day in touched:
        day = periods.as_date(day)
        group = by_month.setdefault(periods.month_key(day), {})
        group[key] = max(day, group.get(key, day))
    changes = []
    for month in sorted(by_month):
        changes += MonthGroup(session, books, by_month[month], stamp, boards, counts).run()
    if own:
        counts.write(session)
    return changes
