"""Closing a month, a quarter or a year: the results frozen into ``closed_results``.

* A month is summarised into the scoring handbook (一月一汇总): month scores and month levels.
* A quarter sets the official stars (季有晋星): quarter scores with quarter thresholds. Its three
  months must be closed first.
* A year is archived (每年年底清零): year scores and levels, Model Stars (示范星), and from then on
  events dated in that year change nothing (they are kept, marked ``archived``). Its four
  quarters must be closed first. The next year starts at zero because every score is per period.

What is frozen, per subject: own score (capped items), the rolled-up total (``levels.rollup_tree``
over the subjects *active* in the directory at closing), level (vetoes force 0), county-wide rank
(``rankings.ranking``; ``reached_at`` from the live standings), items and counts, and the Model
Star where the rulebook's criteria name this kind of period. Members who left are not in the
results. The rulebook deciding thresholds is the one in force on the period's last day.

A period may only be closed once it has ended, unless the caller passes ``early=True`` (the
organisation department may close the handbook on the last working day).

A closed result is never rewritten, and events dated in a closed month or quarter still arrive
(a sheet imported late, a sanction recorded afterwards, a relay catching up): they are scored
into the ledger and the live standings, not into the frozen result; ``explain`` of the period
shows the live figures beside the official ones (``late_entries`` counts them). Only an archived
year refuses them (kept, never scored).

A closed quarter need not agree with its closed months, and a closed year with its quarters: each
period is frozen from the ledger as it stands at *its own* close, so a quarter includes the
entries of its months that arrived after those months closed, and its own score may differ from
the sum of its months' frozen own scores by exactly those late entries. This is deliberate: the
month close is the scoring handbook's monthly summary (一月一汇总), published as it was; the
quarter sets the official star (季有晋星) and the year is the archive, and freezing late entries
out of them would lose a member's real credit, or a real veto, for good. (Making them agree would
mean either rewriting closed months or scoring nothing late, both worse.)

Two paths freeze the same results. On PostgreSQL (``_freeze_in_database``) the members, a million
at county scale, are frozen by one statement (``freeze``) and never pass through Python; the
branches and committees are frozen here from their own entries and the aggregates of their
members' frozen rows. On SQLite (``_freeze_in_python``, laptop scale) every subject is frozen
here. Both give the same rows, summary and event payload (``tests/integration/
test_stars_closings.py`` checks them against the original implementation). Two things may
differ that were never determined: the order of the keys inside ``items`` and ``counts`` (the
order the rows happen to be read in, on either path), and, should two rulebooks of one period
give one item code different kinds, which kind counts (the Python path takes the one it meets
first in the rows it reads, the database path the earliest month's).
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import eventlet
from sqlalchemy import func, select

from services.stars import books as books_module
from services.stars import directory, freeze, ledger, levels, periods, rankings, scoring
from services.stars.scoring import shown
from services.stars.models import ClosedResult, PeriodClosing, StandingRow
from services.stars.figures import SCOPES_OF
from shared.errors import Conflict

closings = PeriodClosing.__table__
closed = ClosedResult.__table__
standings = StandingRow.__table__
KINDS = ("member", "branch", "committee")
ZERO = Decimal(0)
PREREQUISITE = {"quarter": "month", "year": "quarter"}


def closed_periods(session, kind=None) -> set[str]:
    query = select(closings.c.period)
    if kind:
        query = query.where(closings.c.period_kind == kind)
    return set(session.scalars(query))


def is_closed(session, period_key) -> bool:
    return session.scalar(select(closings.c.period).where(closings.c.period == period_key)) is not None


def _parts(period):
    if period.kind == "quarter":
        return list(period.months)
    if period.kind == "year":
        return [f"{period.year:04d}-Q{q}" for q in range(1, 5)]
    return []


def close(session, books, period_key, closed_by, stamp, early=False, today=None) -> dict:
    """Freeze the results of a period; returns the payload of its ``*_closed`` event."""
    period = periods.parse_period(period_key)
    today = today or date.today()
    if is_closed(session, period_key):
        raise Conflict(f"{period_key} is already closed")
    if period.end >= today and not early:
        raise Conflict(f"{period_key} has not ended yet (it ends on {period.end.isoformat()}); "
                       f"pass early=True to close it anyway")
    done = closed_periods(session)
    missing = [part for part in _parts(period) if part not in done]
    if missing:
        raise Conflict(f"close {', '.join(missing)} before {period_key}")
    book = books_module.latest_for_period(books, period_key)
    if book is None:
        raise Conflict(f"no rulebook is in force for {period_key}")

    if session.get_bind().dialect.name == "postgresql":
        counts, committees, model_stars = _freeze_in_database(session, books, book, period,
                                                              closed_by, stamp)
    else:
        counts, committees, model_stars = _freeze_in_python(session, books, book, period,
                                                            closed_by, stamp)
    payload = {"period": period_key, "closed_at": stamp, "closed_by": closed_by,
               "rulebook_version": book.version, "counts": counts}
    if period.kind in ("quarter", "year"):
        payload["committees"] = committees
    if period.kind == "year":
        payload["model_stars"] = {kind: model_stars.get(kind, 0) for kind in KINDS}
    return payload


def _record_closing(session, period, book, closed_by, stamp, summary):
    session.execute(closings.insert().values(
        period=period.key, period_kind=period.kind, closed_at=stamp, closed_by=closed_by,
        rulebook_version=book.version, summary=summary))


def _reached(session, period_key, kinds):
    return {(row.subject_kind, row.subject_id): row.reached_at for row in session.execute(
        select(standings.c.subject_kind, standings.c.subject_id, standings.c.reached_at)
        .where(standings.c.period == period_key, standings.c.subject_kind.in_(kinds)))}


def _freeze_in_python(session, books, book, period, closed_by, stamp):
    """Every subject's result computed here (SQLite: laptop scale, and exact decimals)."""
    entries = ledger.all_month_rows(session, period.months)
    summaries = scoring.summarise(books, entries, period.key)
    members_of, branches_of, rows = directory.active_tree(session)
    active = set(rows)
    own = {key: summary.score for key, summary in summaries.items()}
    vetoed = {key for key, summary in summaries.items() if summary.vetoed}
    subjects = (active | set(summaries)) - {key for key, row in _inactive(session).items()}
    if all(kind in book.subjects for kind in KINDS):
        totals = levels.rollup_tree(book, period.kind, {k: v for k, v in own.items() if k in subjects},
                                    members_of, branches_of, vetoed)
    else:
        totals = dict(own)
    reached = _reached(session, period.key, KINDS)

    results, counts, committees, model_stars = [], [], [], Counter()
    for kind in KINDS:
        if kind not in book.subjects:
            continue
        chosen = sorted(key for key in subjects if key[0] == kind)
        found, count, listed, awarded = _kind_results(book, period, kind, chosen, summaries, own,
                                                      totals, vetoed, reached, rows)
        results.extend(found)
        counts.append(count)
        committees.extend(listed)
        if awarded is not None:
            model_stars[kind] += awarded

    _record_closing(session, period, book, closed_by, stamp,
                    {"counts": counts, "model_stars": dict(model_stars)})
    for start in range(0, len(results), 500):
        session.execute(closed.insert(), results[start:start + 500])
        eventlet.sleep(0)
    return counts, committees, model_stars


def _freeze_in_database(session, books, book, period, closed_by, stamp):
    """PostgreSQL: the members are frozen by one statement (``freeze``), the branches and
    committees here from their own entries and their members' frozen rows."""
    _record_closing(session, period, book, closed_by, stamp, {"counts": [], "model_stars": {}})
    counts, committees, model_stars = [], [], Counter()
    frozen = {}
    if "member" in book.subjects:
        frozen = freeze.freeze_members(session, books, book, period)
        at_level, subjects_count, awarded = freeze.member_figures(frozen)
        counts.append({"subject_kind": "member", "subjects": subjects_count,
                       "levels": {str(level): at_level.get(level, 0) for level in range(6)}})
        criteria = book.subject("member").model_star
        if criteria is not None and criteria.period == period.kind and subjects_count:
            model_stars["member"] += awarded

    units = [kind for kind in KINDS[1:] if kind in book.subjects]
    if units:
        entries = _unit_month_rows(session, period.months, units)
        summaries = scoring.summarise(books, entries, period.key)
        rows = _active_rows(session, units)
        own = {key: summary.score for key, summary in summaries.items()}
        vetoed = {key for key, summary in summaries.items() if summary.vetoed}
        subjects = (set(rows) | set(summaries)) - set(_inactive(session, units))
        if all(kind in book.subjects for kind in KINDS):
            branches_of = {}
            for (kind, subject_id), row in rows.items():
                if kind == "branch" and row["township_id"] is not None:
                    branches_of.setdefault(row["township_id"], []).append(subject_id)
            totals = _unit_totals(book, period.kind, {k: v for k, v in own.items() if k in subjects},
                                  freeze.branch_children(frozen), branches_of, vetoed)
        else:
            totals = dict(own)
        reached = _reached(session, period.key, units)
        results = []
        for kind in units:
            chosen = sorted(key for key in subjects if key[0] == kind)
            found, count, listed, awarded = _kind_results(book, period, kind, chosen, summaries,
                                                          own, totals, vetoed, reached, rows)
            results.extend(found)
            counts.append(count)
            committees.extend(listed)
            if awarded is not None:
                model_stars[kind] += awarded
        for start in range(0, len(results), 500):
            session.execute(closed.insert(), results[start:start + 500])
            eventlet.sleep(0)

    session.execute(closings.update().where(closings.c.period == period.key).values(
        summary={"counts": counts, "model_stars": dict(model_stars)}))
    return counts, committees, model_stars


def _unit_month_rows(session, months, kinds) -> list[dict]:
    """``item_months`` of branches and committees for ``months``, as pseudo-entries."""
    item_months = ledger.item_months
    query = select(item_months).where(item_months.c.subject_kind.in_(kinds),
                                      item_months.c.month.in_(sorted(months)))
    rows = []
    for number, row in enumerate(session.execute(query)):
        rows.append(ledger.as_entry(row))
        if number % 500 == 499:
            eventlet.sleep(0)
    return rows


def _active_rows(session, kinds) -> dict:
    subjects = directory.subjects
    return {(row.kind, row.id): dict(row._mapping) for row in session.execute(
        select(subjects).where(subjects.c.kind.in_(kinds), subjects.c.active.is_(True)))}


def _unit_totals(book, period_kind, own_scores, member_children, branches_of, vetoed) -> dict:
    """``levels.rollup_tree`` for branches and committees, the members given as aggregates per
    branch (``freeze.branch_children``: count, score sum, count per level)."""
    def own(kind, subject_id):
        return Decimal(own_scores.get((kind, subject_id), ZERO))

    totals = {}
    branch_ids = set(member_children) | {b for branches in branches_of.values() for b in branches} \
        | {key[1] for key in own_scores if key[0] == "branch"}
    for branch_id in branch_ids:
        count, score_sum, at_level = member_children.get(branch_id, (0, ZERO, {}))
        totals[("branch", branch_id)] = levels.rollup(
            book, "branch", period_kind, own("branch", branch_id),
            levels.Children(count, score_sum, at_level))
    committee_ids = set(branches_of) | {key[1] for key in own_scores if key[0] == "committee"}
    for committee_id in committee_ids:
        scores = {b: totals[("branch", b)] for b in branches_of.get(committee_id, ())}
        children = levels.children_of(book, "branch", period_kind, scores,
                                      {b for b in scores if ("branch", b) in vetoed})
        totals[("committee", committee_id)] = levels.rollup(book, "committee", period_kind,
                                                            own("committee", committee_id), children)
    return totals


def _kind_results(book, period, kind, chosen, summaries, own, totals, vetoed, reached, rows):
    """The frozen rows of one subject kind (``chosen``: its keys, sorted), with its entry of the
    summary counts, its committees list (for the event) and its Model Stars (None when the
    rulebook's criteria do not name this kind of period, or nobody is ranked)."""
    spec = book.subject(kind)
    figures = []
    for number, key in enumerate(chosen):
        summary = summaries.get(key)
        total = totals.get(key, own.get(key, Decimal(0)))
        level = levels.level_for(book, kind, period.kind, total, key in vetoed)
        figures.append(rankings.Standing(key[1], level, total, reached.get(key),
                                         summary.vetoes if summary else ()))
        if number % 500 == 499:
            eventlet.sleep(0)
    ranked = rankings.ranking(figures)
    scoped = {scope: _scope_ranks(figures, {
        key[1]: (rows.get(key) or {}).get(column) for key in chosen})
        for scope, column in (("township", "township_id"), ("branch", "branch_id"))
        if scope in SCOPES_OF[kind]}
    results, committees, levels_count, awarded = [], [], Counter(), None
    for entry in ranked:
        standing = entry.standing
        key = (kind, standing.subject_id)
        summary = summaries.get(key)
        row = rows.get(key) or {}
        model = None
        if spec.model_star is not None and spec.model_star.period == period.kind:
            verdict = levels.model_star(book, kind, standing.level, summary)
            model = (verdict.awarded, list(verdict.unmet))
            awarded = (awarded or 0) + verdict.awarded
        results.append({
            "period": period.key, "subject_kind": kind, "subject_id": standing.subject_id,
            "branch_id": row.get("branch_id") if kind == "member" else None,
            "township_id": row.get("township_id") if kind != "committee" else standing.subject_id,
            "own_score": own.get(key, Decimal(0)), "score": standing.score,
            "level": standing.level, "rank": entry.position,
            "township_rank": scoped.get("township", {}).get(standing.subject_id),
            "branch_rank": scoped.get("branch", {}).get(standing.subject_id),
            "vetoes": list(standing.vetoes),
            "items": {code: shown(points) for code, points in (summary.items if summary else {}).items()},
            "counts": dict(summary.counts) if summary else {},
            "reached_at": standing.reached_at,
            "model_star": model[0] if model else None, "model_star_unmet": model[1] if model else None})
        levels_count[standing.level] += 1
        if kind == "committee":
            committees.append({"committee_id": standing.subject_id,
                               "score": shown(standing.score),
                               "level": standing.level, "rank": entry.position,
                               "vetoes": list(standing.vetoes),
                               "model_star": model[0] if model else None})
    count = {"subject_kind": kind, "subjects": len(ranked),
             "levels": {str(level): levels_count[level] for level in range(6)}}
    return results, count, committees, awarded


def _scope_ranks(standings_, scope_of) -> dict:
    """subject id -> place within its scope (township or branch)."""
    return {ranked.subject_id: ranked.position
            for group in rankings.rankings_by_scope(standings_, {
                subject_id: scope for subject_id, scope in scope_of.items() if scope is not None
            }).values() for ranked in group}


def _inactive(session, kinds=KINDS):
    subjects = directory.subjects
    return {(row.kind, row.id): True for row in session.execute(
        select(subjects.c.kind, subjects.c.id).where(subjects.c.active.is_(False),
                                                     subjects.c.kind.in_(kinds)))}


def result_of(session, period_key, subject_kind, subject_id) -> dict | None:
    row = session.execute(select(closed).where(
        closed.c.period == period_key, closed.c.subject_kind == subject_kind,
        closed.c.subject_id == subject_id)).first()
    return dict(row._mapping) if row else None


def late_entries(session, kind, subject_id, period_key) -> int:
    """Ledger rows of a subject dated in a closed period but recorded after its close (they
    count in the live figures and in later closings, not in this period's frozen result)."""
    start, end = periods.period_bounds(period_key)
    rows = ledger.ledger
    closed_at = select(closings.c.closed_at).where(closings.c.period == period_key).scalar_subquery()
    return session.scalar(select(func.count()).select_from(rows).where(
        rows.c.subject_kind == kind, rows.c.subject_id == subject_id,
        rows.c.occurred_on >= start, rows.c.occurred_on <= end, rows.c.recorded_at > closed_at))


def closing_of(session, period_key) -> dict | None:
    row = session.execute(select(closings).where(closings.c.period == period_key)).first()
    return dict(row._mapping) if row else None


RANK_COLUMN = {"county": "rank", "township": "township_rank", "branch": "branch_rank"}
SCOPE_COLUMN = {"township": "township_id", "branch": "branch_id"}


def _scope_where(kind, period_key, scope_kind, scope_id):
    where = [closed.c.period == period_key, closed.c.subject_kind == kind]
    if scope_kind != "county":
        where.append(closed.c[SCOPE_COLUMN[scope_kind]] == scope_id)
    return where


def top(session, kind, scope_kind, scope_id, period_key, n) -> list[dict]:
    """The first ``n`` places of a closed period's scope, read by its rank index."""
    rank = closed.c[RANK_COLUMN[scope_kind]]
    rows = session.execute(select(closed.c.subject_id, closed.c.level, closed.c.score, rank)
                           .where(*_scope_where(kind, period_key, scope_kind, scope_id),
                                  rank <= n).order_by(rank)).all()
    found, previous = [], None
    for row in rows:
        tied = previous is not None and (previous.level, previous.score) == (row.level, row.score)
        found.append({"rank": row[3], "subject_id": row.subject_id, "level": row.level,
                      "score": shown(row.score), "tied_with_previous": tied})
        previous = row
    return found


def ranks_of(session, result, wanted) -> list[dict]:
    """A closed result's places in the scopes ``wanted`` (frozen at the close)."""
    found = []
    for scope_kind in wanted:
        scope_id = None if scope_kind == "county" else result[SCOPE_COLUMN[scope_kind]]
        if scope_kind != "county" and scope_id is None:
            continue
        size = session.scalar(select(func.count()).select_from(closed).where(
            *_scope_where(result["subject_kind"], result["period"], scope_kind, scope_id)))
        found.append({"scope_kind": scope_kind, "scope_id": scope_id,
                      "rank": result[RANK_COLUMN[scope_kind]], "size": size})
    return found
