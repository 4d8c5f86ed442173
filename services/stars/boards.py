"""The published boards (the first ``top_n`` places of each ranking scope) and ``ranking_changed``.

A batch reads the boards of the scopes its changes touch, for the live period, just before a
level is written and again just after (``Boards.before`` / ``Boards.after``: one windowed query
per scope kind, however many scopes). A changed subject that is on a board before or after the
batch gets a ``ranking_changed`` with its old and new place; a place off the board is counted
with ``ranks.rank_of`` against the standings after the batch. A move further down changes no
board and publishes nothing; ``rank_of`` answers for anyone.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Integer, bindparam, case, func, select

from services.stars import figures, rankings, ranks
from services.stars.figures import LIVE, SCOPES_OF
from services.stars.scoring import shown

standings = figures.standings
SCOPE_COLUMN = {"branch": "branch_id", "township": "township_id", "county": None}
DEPTH = 5  # boards are read this many times deeper than published: a place just off the board
# is then known without counting it


def scope_id_of(scope_kind, branch_id, township_id):
    return {"branch": branch_id, "township": township_id, "county": None}[scope_kind]


def _order():
    return (standings.c.level.desc(), standings.c.score.desc(),
            case((standings.c.reached_at.is_(None), 1), else_=0), standings.c.reached_at,
            standings.c.subject_id)


_BOARDS: dict = {}


def _board_statement(scope_kind):
    if scope_kind in _BOARDS:
        return _BOARDS[scope_kind]
    column = SCOPE_COLUMN[scope_kind]
    base = [standings.c.subject_kind == bindparam("kind"), standings.c.period == bindparam("period"),
            standings.c.active.is_(True)]
    if column is None:
        statement = select(standings.c.subject_id, standings.c.level, standings.c.score,
                           standings.c.reached_at, func.cast(0, Integer).label("scope")) \
            .where(*base).order_by(*_order()).limit(bindparam("n"))
    else:
        place = func.row_number().over(partition_by=standings.c[column], order_by=_order())
        inner = select(standings.c.subject_id, standings.c.level, standings.c.score,
                       standings.c.reached_at, standings.c[column].label("scope"),
                       place.label("place")) \
            .where(*base, standings.c[column].in_(bindparam("scopes", expanding=True))).subquery()
        statement = select(inner.c.subject_id, inner.c.level, inner.c.score, inner.c.reached_at,
                           inner.c.scope).where(inner.c.place <= bindparam("n")) \
            .order_by(inner.c.scope, inner.c.place)
    _BOARDS[scope_kind] = statement
    return statement


def boards(session, kind, period_key, scope_kind, scope_ids, n) -> dict:
    """``scope id (None for the county) -> [rankings.Standing]``, the first ``n`` rows in order."""
    found = {scope_id: [] for scope_id in scope_ids}
    if not scope_ids:
        return found
    params = {"kind": kind, "period": period_key, "n": n}
    if scope_kind != "county":
        params["scopes"] = sorted(s for s in scope_ids if s is not None)
        if not params["scopes"]:
            return found
    for row in session.execute(_board_statement(scope_kind), params):
        scope = None if scope_kind == "county" else row.scope
        found.setdefault(scope, []).append(
            rankings.Standing(row.subject_id, row.level, Decimal(row.score), row.reached_at))
    return found


class Boards:
    """Snapshots of the boards a level's changes touch, before and after it is written."""

    def __init__(self, session, top_n):
        self.session, self.top_n = session, top_n
        self.snapshots: dict = {}

    def scopes(self, changes) -> dict:
        wanted: dict = {}
        for change in changes:
            if not change.active:
                continue
            for scope_kind in SCOPES_OF[change.kind]:
                scope_id = scope_id_of(scope_kind, change.branch_id, change.township_id)
                if scope_kind != "county" and scope_id is None:
                    continue
                wanted.setdefault((change.kind, change.keys[LIVE], scope_kind), set()).add(scope_id)
        return wanted

    def take(self, moment, changes):
        for (kind, period_key, scope_kind), scope_ids in self.scopes(changes).items():
            taken = boards(self.session, kind, period_key, scope_kind, scope_ids,
                           self.top_n * DEPTH)
            for scope_id, board in taken.items():
                key = (moment, kind, period_key, scope_kind, scope_id)
                if moment == "after" or key not in self.snapshots:  # earliest before, latest after
                    self.snapshots[key] = board

    def board(self, moment, kind, period_key, scope_kind, scope_id):
        return self.snapshots.get((moment, kind, period_key, scope_kind, scope_id), [])


def _place(board, subject_id):
    for position, standing in enumerate(board, start=1):
        if standing.subject_id == subject_id:
            return position
    return None


def _entries(board):
    return [{"rank": ranked.position, "subject_id": ranked.subject_id,
             "level": ranked.standing.level, "score": shown(ranked.standing.score),
             "tied_with_previous": ranked.tied_with_previous}
            for ranked in rankings.ranking(board)]


def ranking_changes(session, taken: Boards, changes, rank_of) -> list[dict]:
    """``ranking_changed`` payloads of the changes whose place on a board moved.

    ``rank_of(kind, subject_id, period_key, scope_kind, branch_id, township_id, figure)`` counts a
    place off the board (standings after the batch)."""
    found = []
    for change in changes:
        old, new = change.live_before, change.live_after
        if not change.active or (old.level == new.level and old.score == new.score):
            continue
        period_key = change.keys[LIVE]
        for scope_kind in SCOPES_OF[change.kind]:
            scope_id = scope_id_of(scope_kind, change.branch_id, change.township_id)
            if scope_kind != "county" and scope_id is None:
                continue
            before = taken.board("before", change.kind, period_key, scope_kind, scope_id)
            after = taken.board("after", change.kind, period_key, scope_kind, scope_id)
            old_rank, new_rank = _place(before, change.id), _place(after, change.id)
            top_n = taken.top_n
            if (old_rank is None or old_rank > top_n) and (new_rank is None or new_rank > top_n):
                continue
            if old_rank is None:
                old_rank = rank_of(change.kind, change.id, period_key, scope_kind,
                                   change.branch_id, change.township_id, old)["rank"]
            elif new_rank is None:
                new_rank = rank_of(change.kind, change.id, period_key, scope_kind,
                                   change.branch_id, change.township_id, new)["rank"]
            if old_rank == new_rank:
                continue
            found.append({"subject_kind": change.kind, "scope_kind": scope_kind,
                          "scope_id": scope_id, "period": period_key, "subject_id": change.id,
                          "old_rank": old_rank, "new_rank": new_rank,
                          "top": _entries(after[:top_n])})
    _add_sizes(session, found)
    return found


def _add_sizes(session, payloads):
    """Each payload's scope size (active subjects), read once per kind and scope kind."""
    wanted: dict = {}
    for payload in payloads:
        wanted.setdefault((payload["subject_kind"], payload["scope_kind"]), set()).add(
            payload["scope_id"])
    sizes = {(kind, scope_kind, scope_id): size
             for (kind, scope_kind), scope_ids in wanted.items()
             for scope_id, size in ranks.scope_sizes(session, kind, scope_kind, scope_ids).items()}
    for payload in payloads:
        payload["size"] = sizes[(payload["subject_kind"], payload["scope_kind"], payload["scope_id"])]
