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
                            ranks, recompute, scoring)
from services.stars.models import RulebookRun
from services.stars.rulebook import SUBJECT_KINDS
from shared import inputs
from shared.errors import Conflict, InvalidInput, NotFound

runs = RulebookRun.__table__
SCOPE_KINDS = ("county", "township", "branch")


# -- inputs (``shared.inputs``: ids fit a BIGINT, text has no control characters, digits typed
# full-width are read as ASCII) --------------------------------------------------------------------

def subject_kind(value, field="subject_kind"):
    return inputs.choice(value, field, SUBJECT_KINDS)


def positive_id(value, field):
    return inputs.positive_id(value, field)


def period(value, field="period", kinds=("month", "quarter", "year")):
    if isinstance(value, str) and len(value) <= 20 and not inputs.control_characters(value):
        value = inputs.normalise_digits(value).strip()
    try:
        parsed = periods.parse_period(value)
    except ValueError:
        raise InvalidInput({field: ["must be a period key like 2026-11, 2026-Q4 or 2026"]}) from None
    if not 1900 <= parsed.year <= 2999:
        raise InvalidInput({field: ["must be a period of the years 1900 to 2999"]})
    if parsed.kind not in kinds:
        raise InvalidInput({field: [f"must be a {' or '.join(kinds)} key, not a {parsed.kind}"]})
    return parsed.key


def year(value, field="year"):
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}" if 1000 <= value <= 9999 else "not a year"
    return period(value, field, ("year",))


def scope(kind, scope_kind, scope_id):
    allowed = figures.SCOPES_OF[kind]
    if not isinstance(scope_kind, str) or scope_kind not in allowed:
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


def words(value, field, max_length=100):
    """Required text of at most ``max_length`` characters (the columns that keep who closed,
    re-scored or recorded something hold 100), without control characters."""
    return inputs.text(value, field, max_length)


def flag(value, field):
    return inputs.flag(value, field)


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
    """The live figures of a subject for a period and, once the period is closed, its official
    (frozen) result under ``official``, with the Model Star verdict (``model_star``: true, false,
    or null where the rulebook awards none for this kind of period; ``model_star_unmet``: the
    reasons it was not awarded)."""
    known(session, kind, subject_id)
    figure = figures.figure_of(session, kind, subject_id, key)
    closed_period = closings.is_closed(session, key)
    result = closings.result_of(session, key, kind, subject_id) if closed_period else None
    official = result and {"score": result["score"], "own_score": result["own_score"],
                           "level": result["level"], "rank": result["rank"],
                           "vetoes": result["vetoes"], **_model_star(result)}
    return plain({"subject_kind": kind, "subject_id": subject_id, "period": key,
                  "period_kind": periods.period_kind_of(key), **_figure_dict(figure),
                  "closed": closed_period, "official": official})


def _model_star(result) -> dict:
    return {"model_star": result["model_star"] if result else None,
            "model_star_unmet": result["model_star_unmet"] if result else None}


def explain(session, books, kind, subject_id, key, limit=500):
    """Why a subject stands where it does in a period: items, roll-up and ledger entries.

    An open period answers the live figures. A closed period answers its official (frozen)
    result: score, own score, level, items with their counts, ranks, vetoes and the Model Star.
    When the live figures differ from it (an event dated in the period arrived after the close,
    or something below the subject changed), they are given beside it under ``live`` with a
    one-line ``note``; each entry says whether it was recorded ``after_close``. A subject that
    is not in the closed results (not active at the close) answers its live figures."""
    known(session, kind, subject_id)
    live = _live_explanation(session, books, kind, subject_id, key)
    entries, truncated = ledger.entries_in(session, kind, subject_id, key, limit)
    answer = {"subject_kind": kind, "subject_id": subject_id, "period": key}
    closing = closings.closing_of(session, key)
    result = closings.result_of(session, key, kind, subject_id) if closing else None
    if result is None:
        note = closing and f"not in the closed results of {key}: these are the live figures"
        return plain({**answer, **live, **_model_star(None), "closed": closing is not None,
                      "official": False, "live": None, "note": note, "entries": entries,
                      "entries_truncated": truncated})
    official = _official_explanation(session, books, closing, result)
    differs = live_differs(official, live)
    for found in entries:
        found["after_close"] = found["recorded_at"] > closing["closed_at"]
    note = late_note(key, periods.local_date(closing["closed_at"]),
                     closings.late_entries(session, kind, subject_id, key)) if differs else None
    return plain({**answer, **official, "closed": True, "official": True,
                  "live": live if differs else None, "note": note, "entries": entries,
                  "entries_truncated": truncated})


def _live_explanation(session, books, kind, subject_id, key) -> dict:
    """The figures as they stand now: own items summed from the ledger, the standing's total."""
    parsed = periods.parse_period(key)
    summary = scoring.summarise(books, ledger.month_rows(session, {(kind, subject_id)}, parsed.months),
                                key).get((kind, subject_id))
    book = books_module.latest_for_period(books, key)
    figure = figures.figure_of(session, kind, subject_id, key)
    points = summary.items if summary else {}
    return {"rulebook_version": book.version if book else None,
            "score": figure.score, "own_score": summary.score if summary else Decimal(0),
            "level": figure.level, "vetoes": list(summary.vetoes) if summary else [],
            "deductions": summary.deductions if summary else Decimal(0),
            "items": item_lines(book, points, summary.counts if summary else {}),
            "rollup": rollup_line(book, kind, parsed.kind, figure.score - figure.own)}


def _official_explanation(session, books, closing, result) -> dict:
    """A closed result as frozen: figures, items and counts, places, Model Star."""
    key, kind = result["period"], result["subject_kind"]
    book = next((b for b in books if b.version == closing["rulebook_version"]), None) \
        or books_module.latest_for_period(books, key)
    points = {code: Decimal(value) for code, value in (result["items"] or {}).items()}
    score_, own = Decimal(result["score"]), Decimal(result["own_score"])
    return {"rulebook_version": closing["rulebook_version"], "closed_at": closing["closed_at"],
            "closed_by": closing["closed_by"], "score": score_, "own_score": own,
            "level": result["level"], "vetoes": list(result["vetoes"] or []),
            "deductions": deductions_of(book, points),
            "items": item_lines(book, points, result["counts"] or {}),
            "rollup": rollup_line(book, kind, periods.period_kind_of(key), score_ - own),
            "rank": result["rank"],
            "ranks": closings.ranks_of(session, result, figures.SCOPES_OF[kind]),
            **_model_star(result)}


def item_lines(book, points, counts) -> list[dict]:
    """One line per item (sorted by code): its name and kind in ``book``, points and count."""
    lines = []
    for code, value in sorted(points.items()):
        spec = book.items.get(code) if book else None
        lines.append({"item": code, "name": spec.name if spec else code,
                      "kind": spec.kind if spec else None, "points": Decimal(value),
                      "count": counts.get(code, 0),
                      "monthly_cap": spec.monthly_cap if spec else None})
    return lines


def deductions_of(book, points) -> Decimal:
    """The sum (<= 0) of the deduction items among ``points`` (an item the rulebook does not
    know counts when negative, as ``scoring`` does)."""
    def deduction(code, value):
        spec = book.items.get(code) if book else None
        return spec.is_deduction if spec else value < 0
    return sum((Decimal(v) for code, v in points.items() if deduction(code, Decimal(v))), Decimal(0))


def rollup_line(book, kind, period_kind, points) -> dict | None:
    """How a branch or committee total adds its children (None for a member)."""
    if book is None or kind not in book.subjects or book.subject(kind).rollup is None:
        return None
    spec = book.subject(kind).rollup
    return {"from": spec.child_kind, "aggregate": spec.aggregate,
            "weight": spec.weight(period_kind), "min_level": spec.min_level, "points": points}


def live_differs(official, live) -> bool:
    """Whether the live figures differ from the official ones: score, own score, level, vetoes,
    or any item's points or count (items at zero points and count ignored)."""
    def key(found):
        items = tuple((line["item"], figures.shown(line["points"]), line["count"])
                      for line in found["items"] if Decimal(line["points"]) or line["count"])
        return (figures.shown(found["score"]), figures.shown(found["own_score"]), found["level"],
                tuple(sorted(found["vetoes"])), items)
    return key(official) != key(live)


def late_note(key, closed_on, late) -> str:
    """The one line explaining why the live figures of a closed period differ from its result."""
    if late:
        entries = "1 ledger entry" if late == 1 else f"{late} ledger entries"
        return (f"{entries} dated in {key} arrived after it closed on {closed_on.isoformat()}: "
                f"the live figures below include them; the official result stands")
    return (f"the live figures differ from the result frozen on {closed_on.isoformat()} "
            f"(something below this subject changed after the close); the official result stands")


def rank_of(session, kind, subject_id, key, scope_kind=None):
    if scope_kind is not None and (not isinstance(scope_kind, str)
                                   or scope_kind not in figures.SCOPES_OF[kind]):
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
        cadres = subsidy_cadres(cadres)
    lines = consequences.subsidy_report(book, cadres, levels, key)
    return plain({"period": key, "official": closed_period, "rulebook_version": book.version,
                  "lines": [{"cadre_id": line.cadre_id, "branch_id": line.branch_id,
                             "level": line.level, "base": line.base, "factor": line.factor,
                             "amount": line.amount, "note": line.note} for line in lines]})


CADRE_FIELDS = ("cadre_id", "branch_id", "base")
MAX_CADRES = 10_000


def subsidy_cadres(cadres) -> list[dict]:
    """The ``cadres`` of ``subsidy_report`` checked: a list (at most 10,000) of ``{cadre_id,
    branch_id, base}`` where ``cadre_id`` is an id or a short text, ``branch_id`` an id and
    ``base`` (optional) yuan from 0 to 9,999,999,999.99 with at most 2 decimals."""
    if not isinstance(cadres, list) or len(cadres) > MAX_CADRES:
        raise InvalidInput({"cadres": [f"must be a list of at most {MAX_CADRES} "
                                       "{cadre_id, branch_id, base}"]})
    errors, checked = {}, []
    for number, cadre in enumerate(cadres):
        where = f"cadres.{number}"
        if not isinstance(cadre, dict):
            errors[where] = ["must be an object {cadre_id, branch_id, base}"]
            continue
        for unknown in sorted(set(cadre) - set(CADRE_FIELDS), key=str):
            errors[f"{where}.{unknown}"] = ["Unknown field."]
        cadre_id = cadre.get("cadre_id")
        if isinstance(cadre_id, str):
            cadre_id = _checked(errors, inputs.text, cadre_id, f"{where}.cadre_id", 64)
        elif "cadre_id" not in cadre:
            errors[f"{where}.cadre_id"] = ["is required"]
        else:
            cadre_id = _checked(errors, inputs.positive_id, cadre_id, f"{where}.cadre_id")
        branch_id = _checked(errors, inputs.positive_id, cadre.get("branch_id"), f"{where}.branch_id")
        base = cadre.get("base")
        if base is not None:
            base = _checked(errors, _yuan, base, f"{where}.base")
        checked.append({"cadre_id": cadre_id, "branch_id": branch_id, "base": base})
    if errors:
        raise InvalidInput(errors)
    return checked


def _yuan(value, field) -> Decimal:
    """An amount of yuan, 0 or more, that a ``Numeric(12, 2)`` holds."""
    if isinstance(value, str) and len(value) <= 60:
        value = inputs.normalise_digits(value).strip()
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(value) if isinstance(value, (str, int)) and not isinstance(value, bool) \
            else value if isinstance(value, Decimal) else None
    except ArithmeticError:
        amount = None
    if amount is None or inputs.decimal_problem(amount, 12, 2) or amount < 0:
        raise InvalidInput({field: ["must be an amount of yuan from 0 to 9999999999.99, "
                                    "at most 2 decimal places"]})
    return amount


# -- sanctions -----------------------------------------------------------------------------------

SANCTION_KINDS = ("veto", "deduction")
SANCTION_EVENT = ("stars", "sanction_recorded")


def a_date(value, field):
    """A calendar date from a ``date`` or an ISO ``YYYY-MM-DD`` string (full-width digits read
    as ASCII)."""
    found = inputs.parse_date(value)
    if found is None:
        raise InvalidInput({field: ["must be a date like 2026-11-20"]})
    return found


def sanction_items(book) -> list[str]:
    """The member items a sanction may name in ``book``: veto and deduction items that a rule on
    ``stars.sanction_recorded`` scores."""
    scored = {rule.item for rule in book.rules_for(*SANCTION_EVENT)}
    return sorted(item.code for item in book.items_of("member")
                  if item.kind in SANCTION_KINDS and item.code in scored)


def sanction_item_problem(book, item, day, payload=None) -> str | None:
    """Why ``item`` cannot be sanctioned under ``book`` on ``day`` (None: it can): it must be a
    veto or deduction item of the member rulebook, and a rule on ``stars.sanction_recorded``
    must score ``payload`` into it (else the event would earn nothing; not checked without a
    payload)."""
    spec = book.items.get(item)
    allowed = ", ".join(sanction_items(book)) or "none"
    if spec is None or spec.subject_kind != "member" or spec.kind not in SANCTION_KINDS:
        return (f"must be a veto or deduction item of the member rulebook {book.version} in force "
                f"on {day.isoformat()} ({allowed})")
    if payload is None:
        return None
    earned = scoring.score_event(book, *SANCTION_EVENT, payload, day)
    if not any(entry["item"] == item and entry["subject_kind"] == "member" for entry in earned):
        return (f"rulebook {book.version} has no rule scoring {'.'.join(SANCTION_EVENT)} into "
                f"{item} for this member ({allowed} can be recorded)")
    return None


def _checked(errors, check, *args):
    """``check(*args)``, or None with its ``InvalidInput`` reasons added to ``errors``."""
    try:
        return check(*args)
    except InvalidInput as refused:
        errors.update(refused.errors)
        return None


def sanction(session, books, member_id, item, decided_on, reason, recorded_by, stamp):
    """Check a sanction the county records against a member and build the payload of its
    ``sanction_recorded`` event; returns (payload, details of the item). Every problem found is
    reported at once in ``InvalidInput({field: [reason]})``: the member must be known to stars
    and active, ``item`` a veto or deduction item of the member rulebook in force on
    ``decided_on`` (scored by a rule), the date not in the future (China-local) nor in an
    archived year, ``reason`` and ``recorded_by`` non-empty."""
    errors = {}
    member_id = _checked(errors, positive_id, member_id, "member_id")
    day = _checked(errors, a_date, decided_on, "decided_on")
    reason = _checked(errors, words, reason, "reason", 500)
    recorded_by = _checked(errors, words, recorded_by, "recorded_by")
    item = _checked(errors, words, item, "item")
    row = _checked(errors, _sanctioned_member, session, member_id) if member_id else None
    book = books_module.in_force(books, day) if day else None
    if day is not None:
        _checked(errors, _sanction_day, session, day, book, stamp)
    payload = {"member_id": member_id, "branch_id": (row or {}).get("branch_id"),
               "township_id": (row or {}).get("township_id"),
               "category": (row or {}).get("category"), "item": item, "occurred_on": day,
               "reason": reason, "recorded_by": recorded_by}
    if book is not None and item is not None:
        problem = sanction_item_problem(book, item, day, payload if row else None)
        if problem:
            errors["item"] = [problem]
    if errors:
        raise InvalidInput(errors)
    spec = book.item(item)
    return payload, {"item_kind": spec.kind, "item_name": spec.name, "rulebook_version": book.version}


def _sanctioned_member(session, member_id) -> dict:
    """The directory row of a member a sanction may be recorded against: known and active."""
    row = directory.get(session, "member", member_id)
    if row is None:
        raise InvalidInput({"member_id": [f"member {member_id} is not known to the stars service"]})
    if not row["active"]:
        raise InvalidInput({"member_id": [f"member {member_id} has left: the stars service no "
                                          f"longer rates them"]})
    return row


def _sanction_day(session, day, book, stamp):
    """A sanction's date: not after today (China-local), not in an archived year, under a rulebook."""
    if day > periods.local_date(stamp):
        raise InvalidInput({"decided_on": ["must not be in the future"]})
    if periods.year_key(day) in closings.closed_periods(session, "year"):
        raise InvalidInput({"decided_on": [f"{day.year} is archived: its results are final"]})
    if book is None:
        raise InvalidInput({"decided_on": [f"no rulebook is in force on {day.isoformat()}"]})


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
