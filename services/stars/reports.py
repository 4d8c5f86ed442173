"""Input checks and the answers of the service's RPCs (reads, consequence lists, re-scoring).

Every refused input raises ``InvalidInput({field: [reason]})``; an unknown subject ``NotFound``;
a state that forbids the request (closing twice, re-scoring an archived year) ``Conflict``.
Answers are plain JSON: decimals as strings, dates as ISO strings.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import eventlet
from sqlalchemy import select

from services.stars import books as books_module
from services.stars import (boards, closings, consequences, directory, figures, ledger, periods,
                            ranks, recompute)
from services.stars.models import RulebookRun
from services.stars.rulebook import SUBJECT_KINDS
from shared.errors import Conflict, InvalidInput, NotFound

runs = RulebookRun.__table__
SCOPE_KINDS = ("county", "township", "branch")


# -- inputs --------------------------------------------------------------------------------------

def subject_kind(value, field="subject_kind"):
    if value not in SUBJECT_KINDS:
        raise InvalidInput({field: [f"must be one of {', '.join(SUBJECT_KINDS)}"]})
    return value


def positive_id(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput({field: ["must be a positive whole number"]})
    return value


def period(value, field="period", kinds=("month", "quarter", "year")):
    try:
        parsed = periods.parse_period(value)
    except ValueError:
        raise InvalidInput({field: ["must be a period key like 2026-11, 2026-Q4 or 2026"]}) from None
    if parsed.kind not in kinds:
        raise InvalidInput({field: [f"must be a {' or '.join(kinds)} key, not a {parsed.kind}"]})
    return parsed.key


def year(value, field="year"):
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}" if 1000 <= value <= 9999 else str(value)
    return period(value, field, ("year",))


def scope(kind, scope_kind, scope_id):
    allowed = figures.SCOPES_OF[kind]
    if scope_kind not in allowed:
        raise InvalidInput({"scope_kind": [f"a {kind} ranking is by {', '.join(allowed)}"]})
    if scope_kind == "county":
        if scope_id is not None:
            raise InvalidInput({"scope_id": ["must be null for the county ranking"]})
        return scope_kind, None
    return scope_kind, positive_id(scope_id, "scope_id")


def count(value, field="n", most=1000):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise InvalidInput({field: [f"must be a whole number from 1 to {most}"]})
    return value


def words(value, field):
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput({field: ["is required"]})
    return value.strip()


def flag(value, field):
    if not isinstance(value, bool):
        raise InvalidInput({field: ["must be true or false"]})
    return value


def plain(value):
    """JSON-safe copy: decimals as strings, dates and times as ISO strings."""
    if isinstance(value, Decimal):
        return figures.shown(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


# -- reads ---------------------------------------------------------------------------------------

def known(session, kind, subject_id) -> dict:
    row = directory.get(session, kind, subject_id)
    if row is None and not ledger.has_entries(session, kind, subject_id):
        raise NotFound(f"{kind} {subject_id} is not known to the stars service")
    return row or {"kind": kind, "id": subject_id, "branch_id": None, "township_id": None,
                   "active": True}


def _figure_dict(figure):
    return {"score": figure.score, "own_score": figure.own, "level": figure.level,
            "vetoes": list(figure.vetoes), "reached_at": figure.reached_at}


def score(session, kind, subject_id, key):
    known(session, kind, subject_id)
    figure = figures.figure_of(session, kind, subject_id, key)
    official = None
    if closings.is_closed(session, key):
        result = closings.result_of(session, key, kind, subject_id)
        official = result and {"score": result["score"], "own_score": result["own_score"],
                               "level": result["level"], "rank": result["rank"],
                               "vetoes": result["vetoes"], "model_star": result["model_star"]}
    return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                  "period_kind": periods.period_kind_of(key), **_figure_dict(figure),
                  "closed": closings.is_closed(session, key), "official": official})


def explain(session, books, kind, subject_id, key, limit=500):
    known(session, kind, subject_id)
    from services.stars import scoring
    parsed = periods.parse_period(key)
    summary = scoring.summarise(books, ledger.month_rows(session, {(kind, subject_id)}, parsed.months),
                                key).get((kind, subject_id))
    book = books_module.latest_for_period(books, key)
    figure = figures.figure_of(session, kind, subject_id, key)
    items = []
    for code, points in sorted((summary.items if summary else {}).items()):
        spec = book.items.get(code) if book else None
        items.append({"item": code, "name": spec.name if spec else code,
                      "kind": spec.kind if spec else None, "points": points,
                      "count": summary.counts.get(code, 0),
                      "monthly_cap": spec.monthly_cap if spec else None})
    entries, truncated = ledger.entries_in(session, kind, subject_id, key, limit)
    rollup = None
    if book is not None and kind in book.subjects and book.subject(kind).rollup is not None:
        spec = book.subject(kind).rollup
        rollup = {"from": spec.child_kind, "aggregate": spec.aggregate,
                  "weight": spec.weight(parsed.kind), "min_level": spec.min_level,
                  "points": figure.score - figure.own}
    return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                  "rulebook_version": book.version if book else None,
                  "score": figure.score, "own_score": summary.score if summary else Decimal(0),
                  "level": figure.level, "vetoes": list(summary.vetoes) if summary else [],
                  "deductions": summary.deductions if summary else Decimal(0),
                  "items": items, "rollup": rollup, "entries": entries,
                  "entries_truncated": truncated})


def rank_of(session, kind, subject_id, key, scope_kind=None):
    if scope_kind is not None and scope_kind not in figures.SCOPES_OF[kind]:
        raise InvalidInput({"scope_kind": [f"a {kind} is ranked by {', '.join(figures.SCOPES_OF[kind])}"]})
    row = known(session, kind, subject_id)
    wanted = figures.SCOPES_OF[kind] if scope_kind is None else (scope_kind,)
    if closings.is_closed(session, key):
        result = closings.result_of(session, key, kind, subject_id)
        if result is None:
            return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                          "official": True, "ranks": [], "note": "not in the closed results"})
        return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                      "official": True, "level": result["level"], "score": result["score"],
                      "ranks": closings.ranks_of(session, result, wanted)})
    figure = figures.figure_of(session, kind, subject_id, key)
    branch_id = row.get("branch_id") if kind == "member" else subject_id if kind == "branch" else None
    township_id = row.get("township_id") if kind != "committee" else subject_id
    if not row.get("active", True):
        return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                      "official": False, "level": figure.level, "score": figure.score,
                      "ranks": [], "note": "not ranked: no longer active"})
    found = []
    for scope_name in wanted:
        if scope_name != "county" and boards.scope_id_of(scope_name, branch_id, township_id) is None:
            continue
        found.append(ranks.rank_of(session, kind, subject_id, key, scope_name, branch_id,
                                   township_id, entry(figure, branch_id, township_id)))
    return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                  "official": False, "level": figure.level, "score": figure.score,
                  "ranks": found})


def entry(figure, branch_id, township_id, active=True):
    """A standing figure as ``ranks.Entry`` (None when the subject has no row)."""
    if figure is None or not figure.exists:
        return None
    return ranks.Entry(figure.level, figure.score, figure.reached_at, branch_id, township_id,
                       active)


def top(session, kind, scope_kind, scope_id, key, n):
    closed_period = closings.is_closed(session, key)
    entries = closings.top(session, kind, scope_kind, scope_id, key, n) if closed_period else \
        ranks.top(session, kind, scope_kind, scope_id, key, n)
    return plain({"subject_kind": kind, "scope_kind": scope_kind, "scope_id": scope_id,
                  "period": key, "official": closed_period, "entries": entries})


def distribution(session, kind, key):
    closed_period = closings.is_closed(session, key)
    counts = figures.closed_distribution(session, kind, key) if closed_period else \
        ranks.distribution(session, kind, key)
    return {"subject_kind": kind, "period": key, "official": closed_period, "levels": counts}


# -- consequences --------------------------------------------------------------------------------

def _book(books, key):
    book = books_module.latest_for_period(books, key)
    if book is None:
        raise Conflict(f"no rulebook is in force for {key}")
    return book


def _listings(listings):
    return [{"member_id": entry.subject_id, "level": entry.level, "score": entry.score,
             "reasons": list(entry.reasons)} for entry in listings]


def award_priority(session, books, key):
    book = _book(books, key)
    closed_period = closings.is_closed(session, key)
    found = consequences.award_priority(book, figures.population(session, "member", key, closed_period), key)
    return plain({"period": key, "official": closed_period, "rulebook_version": book.version,
                  "min_level": book.consequences.award_min_level, "members": _listings(found)})


def unqualified_review(session, books, key):
    book = _book(books, key)
    closed_period = closings.is_closed(session, key)
    found = consequences.unqualified_review(book, figures.population(session, "member", key, closed_period), key)
    return plain({"period": key, "official": closed_period, "rulebook_version": book.version,
                  "max_level": book.consequences.review_max_level,
                  "note": "a list for careful review by the Party organisation; nobody is rated "
                          "unqualified by the system", "members": _listings(found)})


def subsidy_report(session, books, key, cadres=None):
    book = _book(books, key)
    if book.subsidy is None:
        raise Conflict(f"rulebook {book.version} has no subsidy settings")
    closed_period = closings.is_closed(session, key)
    levels = {s.subject_id: s.level for s in figures.population(session, "branch", key, closed_period)}
    if cadres is None:
        rows = session.execute(select(directory.subjects.c.id).where(
            directory.subjects.c.kind == "branch", directory.subjects.c.active.is_(True),
            directory.subjects.c.unit_kind == "village").order_by(directory.subjects.c.id))
        cadres = [{"cadre_id": None, "branch_id": row.id} for row in rows]
    else:
        if not isinstance(cadres, list):
            raise InvalidInput({"cadres": ["must be a list of {cadre_id, branch_id, base}"]})
        errors = {}
        for number, cadre in enumerate(cadres):
            if not isinstance(cadre, dict) or "cadre_id" not in cadre:
                errors[f"cadres.{number}.cadre_id"] = ["is required"]
                continue
            if isinstance(cadre.get("branch_id"), bool) or not isinstance(cadre.get("branch_id"), int):
                errors[f"cadres.{number}.branch_id"] = ["must be a branch id"]
            if cadre.get("base") is not None:
                try:
                    if Decimal(str(cadre["base"])) < 0:
                        raise ValueError
                except Exception:
                    errors[f"cadres.{number}.base"] = ["must be an amount of yuan, 0 or more"]
        if errors:
            raise InvalidInput(errors)
    lines = consequences.subsidy_report(book, cadres, levels, key)
    return plain({"period": key, "official": closed_period, "rulebook_version": book.version,
                  "lines": [{"cadre_id": line.cadre_id, "branch_id": line.branch_id,
                             "level": line.level, "base": line.base, "factor": line.factor,
                             "amount": line.amount, "note": line.note} for line in lines]})


# -- re-scoring ----------------------------------------------------------------------------------

def rescore(session, rulebooks, key, reason, operator, stamp):
    """Re-apply the rulebooks (re-read from disk) to every kept event of the period, appending
    compensations and new rows where the result differs, then recompute every standing of the
    period. Logged in ``rulebook_runs``. Returns (run summary, changes, the boards taken)."""
    parsed = periods.parse_period(key)
    if closings.is_closed(session, f"{parsed.year:04d}"):
        raise Conflict(f"{parsed.year} is archived: its results are final")
    books = rulebooks.reload()
    run_id = session.execute(runs.insert().values(
        period=key, reason=reason, operator=operator, started_at=stamp,
        versions=[book.version for book in books], events_rescored=0, rows_added=0,
        subjects_changed=0)).inserted_primary_key[0]
    rescored, rows_added, touched = 0, 0, set()
    for number, stored in enumerate(ledger.events_in(session, key)):
        reverse, fresh = ledger.rescore_event(session, lambda day: books_module.in_force(books, day),
                                              stored, run_id)
        if reverse or fresh:
            rescored += 1
            rows_added += len(reverse) + len(fresh)
            touched |= {(e["subject_kind"], e["subject_id"]) for e in reverse + fresh}
        if number % 200 == 199:
            eventlet.sleep(0)
    directory.insert_stubs(session, directory.stubs_for(
        set(directory.lookup(session, touched)), touched, {}))
    _, _, rows = directory.active_tree(session)
    pairs = {(subject, date.fromisoformat(f"{month}-01"))
             for month in parsed.months for subject in set(rows) | touched}
    taken = boards.Boards(session, int(rulebooks.settings["ranking_top_n"]))
    changes = recompute.recompute(session, books, pairs, stamp, taken)
    changed = {(c.kind, c.id) for c in changes}
    summary = {"run_id": run_id, "period": key, "reason": reason, "operator": operator,
               "versions": [book.version for book in books], "events_rescored": rescored,
               "rows_added": rows_added, "subjects_changed": len(changed)}
    session.execute(runs.update().where(runs.c.id == run_id).values(
        finished_at=stamp, events_rescored=rescored, rows_added=rows_added,
        subjects_changed=len(changed),
        detail={"changed": [list(k) for k in sorted(changed)[:200]]}))
    return summary, changes, taken
