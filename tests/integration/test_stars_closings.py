"""Closing a period freezes exactly what the original implementation froze, on PostgreSQL (the
members frozen by one statement, ``services.stars.freeze``) and on SQLite (every subject in
Python): every ``closed_results`` row, the closing's summary and the event payload, for each month,
quarter and the year of a county with the awkward cases (caps, deductions, vetoes, a veto
compensated away, an item no rulebook knows, a rulebook changing mid-year, members the directory
does not know, members who left, members without a branch, ties on score and on ``reached_at``,
Model Stars awarded and refused). ``original_close`` below is the implementation as it was before
the database path (verbatim, with its helpers); each period is closed by it and rolled back, then
closed by ``closings.close`` and kept.

PostgreSQL only: the statement's ``scoring.shown`` equals Python's on awkward amounts, and a close
of a bench-shaped county (``bench.ranks``) matches the original while other green threads keep
running."""
import copy
import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import eventlet
import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.stars import books as books_module
from services.stars import closings, directory, freeze, ledger, levels, periods, rankings, scoring
from services.stars.figures import SCOPES_OF
from services.stars.models import (Base, ClosedResult, ItemMonth, PeriodClosing, StandingRow,
                                   Subject)
from services.stars.rulebook import load_rulebook
from services.stars.scoring import shown
from shared import db
from shared.config import ROOT
from shared.errors import Conflict

pytestmark = pytest.mark.integration

YEAR = 2026
STAMP = datetime(2027, 1, 5, 9, 30, tzinfo=timezone.utc)
KINDS = ("member", "branch", "committee")


# -- the implementation before the database path (verbatim) -------------------------------------

def original_close(session, books, period_key, closed_by, stamp, early=False, today=None) -> dict:
    closings_ = PeriodClosing.__table__
    closed = ClosedResult.__table__
    standings = StandingRow.__table__
    period = periods.parse_period(period_key)
    today = today or date.today()
    if closings.is_closed(session, period_key):
        raise Conflict(f"{period_key} is already closed")
    if period.end >= today and not early:
        raise Conflict(f"{period_key} has not ended yet (it ends on {period.end.isoformat()}); "
                       f"pass early=True to close it anyway")
    done = closings.closed_periods(session)
    missing = [part for part in closings._parts(period) if part not in done]
    if missing:
        raise Conflict(f"close {', '.join(missing)} before {period_key}")
    book = books_module.latest_for_period(books, period_key)
    if book is None:
        raise Conflict(f"no rulebook is in force for {period_key}")

    entries = ledger.all_month_rows(session, period.months)
    summaries = scoring.summarise(books, entries, period_key)
    members_of, branches_of, rows = directory.active_tree(session)
    active = set(rows)
    own = {key: summary.score for key, summary in summaries.items()}
    vetoed = {key for key, summary in summaries.items() if summary.vetoed}
    subjects = (active | set(summaries)) - {key for key, row in _original_inactive(session).items()}
    if all(kind in book.subjects for kind in KINDS):
        totals = levels.rollup_tree(book, period.kind, {k: v for k, v in own.items() if k in subjects},
                                    members_of, branches_of, vetoed)
    else:
        totals = dict(own)
    reached = {(row.subject_kind, row.subject_id): row.reached_at for row in session.execute(
        select(standings.c.subject_kind, standings.c.subject_id, standings.c.reached_at)
        .where(standings.c.period == period_key))}

    results, counts, committees, model_stars = [], [], [], Counter()
    for kind in KINDS:
        if kind not in book.subjects:
            continue
        spec = book.subject(kind)
        chosen = sorted(key for key in subjects if key[0] == kind)
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
        scoped = {scope: _original_scope_ranks(figures, {
            key[1]: (rows.get(key) or {}).get(column) for key in chosen})
            for scope, column in (("township", "township_id"), ("branch", "branch_id"))
            if scope in SCOPES_OF[kind]}
        levels_count = Counter()
        for entry in ranked:
            standing = entry.standing
            key = (kind, standing.subject_id)
            summary = summaries.get(key)
            row = rows.get(key) or {}
            model = None
            if spec.model_star is not None and spec.model_star.period == period.kind:
                verdict = levels.model_star(book, kind, standing.level, summary)
                model = (verdict.awarded, list(verdict.unmet))
                model_stars[kind] += verdict.awarded
            results.append({
                "period": period_key, "subject_kind": kind, "subject_id": standing.subject_id,
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
        counts.append({"subject_kind": kind, "subjects": len(ranked),
                       "levels": {str(level): levels_count[level] for level in range(6)}})

    session.execute(closings_.insert().values(
        period=period_key, period_kind=period.kind, closed_at=stamp, closed_by=closed_by,
        rulebook_version=book.version,
        summary={"counts": counts, "model_stars": dict(model_stars)}))
    for start in range(0, len(results), 500):
        session.execute(closed.insert(), results[start:start + 500])
        eventlet.sleep(0)
    payload = {"period": period_key, "closed_at": stamp, "closed_by": closed_by,
               "rulebook_version": book.version, "counts": counts}
    if period.kind in ("quarter", "year"):
        payload["committees"] = committees
    if period.kind == "year":
        payload["model_stars"] = {kind: model_stars.get(kind, 0) for kind in KINDS}
    return payload


def _original_scope_ranks(standings_, scope_of) -> dict:
    return {ranked.subject_id: ranked.position
            for group in rankings.rankings_by_scope(standings_, {
                subject_id: scope for subject_id, scope in scope_of.items() if scope is not None
            }).values() for ranked in group}


def _original_inactive(session):
    subjects = directory.subjects
    return {(row.kind, row.id): True for row in session.execute(
        select(subjects.c.kind, subjects.c.id).where(subjects.c.active.is_(False)))}


# -- the county ----------------------------------------------------------------------------------

def rulebooks():
    """The default rulebook, and a second one from July: another volunteering cap, other quarter
    and year thresholds, and an item the first one does not know."""
    data = yaml.safe_load((ROOT / "config" / "rulebooks" / "stars-2026.yaml").read_text(encoding="utf-8"))
    first = load_rulebook(data)
    later = copy.deepcopy(data)
    later["version"] = "2026.2"
    later["effective_from"] = "2026-07-01"
    member = later["subjects"]["member"]
    member["items"]["volunteer_service"]["monthly_cap"] = 6
    member["items"]["neighbourhood_watch"] = {"name": "邻里守望", "monthly_cap": 3}
    member["thresholds"]["quarter"] = [9, 18, 27, 40, 55]
    member["thresholds"]["year"] = [30, 70, 110, 170, 230]
    return [first, load_rulebook(later)]


TOWNSHIPS = {1: True, 2: True, 3: False}          # committee rows (3 dissolved); 4 has none
BRANCHES = {11: 1, 12: 1, 13: 1, 14: 1, 21: 2, 22: 2, 23: 2, 31: 3, 41: 4}
INACTIVE_BRANCH = (15, 1)
MERITS = ("volunteer_service", "meeting_attendance", "study", "blood_donation", "donation",
          "badge_wearing", "household_pairing")
DEDUCTIONS = ("meeting_absence", "study_absence")
MONTHS = ("2026-03", "2026-07", "2026-10", "2026-11", "2026-12")
MODEL = (1201, 1202, 1203)          # awarded; a deduction; vetoed
TIED = (1111, 1112, 1113, 1114, 1115)
VETOED_TWICE, COMPENSATED, UNKNOWN_ITEM, TINY_NEGATIVE = 1011, 1012, 1013, 1014
STRANGERS = (5001, 5002)            # entries, no directory row
LEFT = 1044                         # left (every 29th did), with entries


def _subject(kind, subject_id, branch_id=None, township_id=None, active=True, unit_kind=None):
    return {"kind": kind, "id": subject_id, "name": f"{kind} {subject_id}", "branch_id": branch_id,
            "township_id": township_id, "category": "rural" if kind == "member" else None,
            "unit_kind": unit_kind, "active": active, "place_as_of": None}


def build_county(session, rng):
    subjects, standings = [], []
    for township, active in TOWNSHIPS.items():
        subjects.append(_subject("committee", township, township_id=township, active=active,
                                 unit_kind="township_committee"))
    for branch, township in BRANCHES.items():
        subjects.append(_subject("branch", branch, township_id=township, unit_kind="village"))
    subjects.append(_subject("branch", INACTIVE_BRANCH[0], township_id=INACTIVE_BRANCH[1],
                             active=False, unit_kind="village"))
    members = list(range(1001, 1241))
    for member in members:
        branch = rng.choice(list(BRANCHES) + [INACTIVE_BRANCH[0]])
        township = BRANCHES.get(branch, INACTIVE_BRANCH[1])
        if member % 17 == 0:
            branch = None                                   # placed in a township only
        if member == 1003:
            township = 2 if township != 2 else 1            # a township other than its branch's
        subjects.append(_subject("member", member, branch, township,
                                 active=member % 29 != 0))   # 1015, 1044, ... left

    def line(kind, subject_id, month, item, points, count=1):
        """Add to a month's raw sum and net count (as the pipeline keeps ``item_months``)."""
        key = (kind, subject_id, month, item)
        if key not in totals:
            totals[key] = {"subject_kind": kind, "subject_id": subject_id, "month": month,
                           "item": item, "points": Decimal(0), "count": 0}
        totals[key]["points"] += Decimal(points)
        totals[key]["count"] += count

    totals = {}

    special = set(MODEL) | set(TIED) | {VETOED_TWICE, COMPENSATED, UNKNOWN_ITEM, TINY_NEGATIVE}
    for member in members + list(STRANGERS):
        if member in special or member % 11 == 0:           # every 11th: no entries at all
            continue
        for month in rng.sample(MONTHS, rng.randint(1, 3)):
            for item in rng.sample(MERITS, rng.randint(1, 3)):
                line("member", member, month, item,
                     rng.choice(["0.5", "1", "2", "2.5", "4", "6", "8", "11.25", "0.25", "3.75"]),
                     rng.randint(1, 4))
            if rng.random() < 0.3:
                line("member", member, month, rng.choice(DEDUCTIONS),
                     -rng.choice([1, 2, 3, 7]), rng.randint(1, 2))
            if rng.random() < 0.15:
                line("member", member, month, "neighbourhood_watch", rng.choice(["2", "5"]))
    for member in TIED:                                     # same score, reached at different times
        line("member", member, "2026-11", "volunteer_service", "4")
    for month in range(1, 13):                              # Model Star candidates: every month
        key = f"2026-{month:02d}"
        for member in MODEL:
            for item, points, count in (("volunteer_service", "10", 2), ("meeting_attendance", "8", 4),
                                        ("study", "4", 1), ("blood_donation", "5", 1),
                                        ("donation", "5", 1), ("badge_wearing", "2", 1)):
                line("member", member, key, item, points, count)
    line("member", MODEL[1], "2026-05", "meeting_absence", "-1")
    line("member", MODEL[2], "2026-11", "serious_violation", "0")
    line("member", VETOED_TWICE, "2026-11", "serious_violation", "0")
    line("member", VETOED_TWICE, "2026-11", "organisation_life_refusal", "0")
    line("member", VETOED_TWICE, "2026-11", "volunteer_service", "6")
    line("member", COMPENSATED, "2026-10", "serious_violation", "0", 0)   # recorded, then revoked
    line("member", COMPENSATED, "2026-10", "study", "3")
    line("member", UNKNOWN_ITEM, "2026-11", "legacy_bonus", "3.3333", 2)  # no rulebook knows it
    line("member", UNKNOWN_ITEM, "2026-12", "legacy_bonus", "-1.5")
    line("member", TINY_NEGATIVE, "2026-11", "legacy_penalty", "-0.0040")
    line("member", TINY_NEGATIVE, "2026-11", "study", "2")
    line("member", LEFT, "2026-11", "volunteer_service", "9")

    line("branch", 99, "2026-11", "organisation_life", "3")     # entries, no directory row
    for branch in list(BRANCHES) + [INACTIVE_BRANCH[0]]:
        for month in rng.sample(MONTHS, 2):
            line("branch", branch, month, "organisation_life", rng.choice(["2", "4", "7"]))
            if rng.random() < 0.4:
                line("branch", branch, month, "organisation_life_absence", "-2")
    line("branch", 22, "2026-11", "organisation_paralysed", "0")
    for township in (1, 2, 3, 4):
        line("committee", township, "2026-11", "township_volunteering", rng.choice(["3", "8"]))
    line("committee", 2, "2026-12", "major_incident", "0")

    moments = [datetime(2026, 11, day, 8, tzinfo=timezone.utc) for day in (2, 3, 9, 20)]
    place = {(row["kind"], row["id"]): row for row in subjects}
    for period in ("2026-11", "2026-Q4", "2026"):
        for (kind, subject_id), row in sorted(place.items()):
            if rng.random() < 0.3 or subject_id in TIED:
                continue
            standings.append(_standing(kind, subject_id, period, rng.choice(moments), row))
        tied_at = {1111: moments[1], 1112: moments[1], 1113: moments[0], 1115: moments[1]}
        for member, moment in tied_at.items():              # 1114: never reached
            standings.append(_standing("member", member, period, moment, place[("member", member)]))
        standings.append(_standing("member", STRANGERS[1], period, moments[2],
                                   {"branch_id": None, "township_id": None, "active": True}))
    session.execute(Subject.__table__.insert(), subjects)
    session.execute(ItemMonth.__table__.insert(), list(totals.values()))
    session.execute(StandingRow.__table__.insert(), standings)


def _standing(kind, subject_id, period, moment, row):
    return {"subject_kind": kind, "subject_id": subject_id, "period": period,
            "own_score": Decimal(0), "score": Decimal(0), "level": 0, "vetoes": [],
            "reached_at": moment, "rulebook_version": "2026.1", "branch_id": row["branch_id"],
            "township_id": row["township_id"], "active": row["active"]}


def frozen(session, period_key):
    """What a close left: its rows (by kind and id), and its closing row."""
    closed = ClosedResult.__table__
    rows = [dict(row._mapping) for row in session.execute(
        select(closed).where(closed.c.period == period_key)
        .order_by(closed.c.subject_kind, closed.c.subject_id))]
    closing = dict(session.execute(select(PeriodClosing.__table__).where(
        PeriodClosing.__table__.c.period == period_key)).one()._mapping)
    return rows, closing


def periods_in_order():
    for quarter in range(1, 5):
        months = periods.parse_period(f"{YEAR}-Q{quarter}").months
        yield from months
        yield f"{YEAR}-Q{quarter}"
    yield str(YEAR)


def test_every_close_freezes_what_the_original_froze(db_url_factory, monkeypatch):
    url = db_url_factory()
    engine = db.database(url).engine
    Base.metadata.create_all(engine)
    books = rulebooks()
    with Session(engine) as session:
        build_county(session, random.Random(2026))
        session.commit()
    statements = []
    real = freeze.freeze_members
    monkeypatch.setattr(freeze, "freeze_members",
                        lambda *args, **kwargs: statements.append(args[3].key) or real(*args, **kwargs))

    results = {}
    for key in periods_in_order():
        with Session(engine) as session:
            expected_payload = original_close(session, books, key, "组织部 李明", STAMP, early=True)
            expected = frozen(session, key)
            session.rollback()
        with Session(engine) as session:
            payload = closings.close(session, books, key, "组织部 李明", STAMP, early=True)
            session.commit()
        with Session(engine) as session:
            found = frozen(session, key)
        assert payload == expected_payload, key
        assert found[1] == expected[1], key
        assert len(found[0]) == len(expected[0]), key
        for got, wanted in zip(found[0], expected[0]):
            assert got == wanted, key
        results[key] = {(row["subject_kind"], row["subject_id"]): row for row in found[0]}
        if key == str(YEAR):
            assert payload["model_stars"]["member"] == 1

    on_postgres = engine.dialect.name == "postgresql"
    assert statements == (list(periods_in_order()) if on_postgres else [])
    # the county has the cases it is meant to have (else the comparison proves less)
    month, quarter, year = results["2026-11"], results["2026-Q4"], results["2026"]
    assert month[("member", VETOED_TWICE)]["vetoes"] == ["organisation_life_refusal", "serious_violation"]
    assert month[("member", VETOED_TWICE)]["level"] == 0
    assert quarter[("member", COMPENSATED)]["vetoes"] == [] \
        and quarter[("member", COMPENSATED)]["counts"]["serious_violation"] == 0
    assert month[("member", TINY_NEGATIVE)]["items"]["legacy_penalty"] == "-0.00"
    assert quarter[("member", UNKNOWN_ITEM)]["items"]["legacy_bonus"] == "1.83"
    assert ("member", LEFT) not in month and ("member", 1002) in month
    assert month[("member", STRANGERS[0])]["branch_id"] is None \
        and month[("member", STRANGERS[0])]["township_rank"] is None
    assert ("branch", INACTIVE_BRANCH[0]) not in month and ("branch", 99) in month
    tied = sorted(TIED, key=lambda m: month[("member", m)]["rank"])
    assert tied == [1113, 1111, 1112, 1115, 1114]
    assert year[("member", MODEL[0])]["model_star"] is True
    assert "deductions 1.00 exceed 0.00" in year[("member", MODEL[1])]["model_star_unmet"]
    assert year[("member", MODEL[2])]["model_star_unmet"][:2] == [
        "level 0 is below 5", "veto item recorded: serious_violation"]
    assert quarter[("member", MODEL[0])]["items"]["volunteer_service"] == "18.00"  # capped at 6
    assert month[("member", 1020)]["branch_id"] is None and month[("member", 1020)]["branch_rank"] is None
    assert month[("member", 1020)]["township_rank"] is not None


@pytest.fixture
def pg_engine(pg_url_factory):
    url = pg_url_factory()
    engine = db.database(url).engine
    Base.metadata.create_all(engine)
    return engine


# (no "-0": a PostgreSQL numeric has no negative zero, and the Python path shows one only for
# deductions of 0 exceeding a negative maximum, which the rulebook refuses)
AMOUNTS = ["0", "0.001", "-0.001", "-0.0049", "-0.005", "0.005", "1.005", "-1.005", "2.345",
           "-2.344", "12345678.9999", "-12345678.995", "10", "-10", "0.1", "-0.0001", "99.994"]


def test_amounts_are_shown_in_sql_as_in_python(pg_engine):
    with pg_engine.connect() as connection:
        for amount in AMOUNTS:
            value = Decimal(amount)
            sql = freeze._shown("CAST(:value AS numeric)")
            assert connection.execute(text(f"SELECT {sql}"), {"value": value}).scalar() \
                == shown(value), amount


def test_a_bench_county_closes_as_before_while_other_green_threads_run(pg_engine):
    from bench import ranks
    ranks.generate(pg_engine, 20_000, closable=True)
    books = books_module.load(None)
    with Session(pg_engine) as session:
        expected_payload = original_close(session, books, "2026-11", None, STAMP, early=True)
        expected = frozen(session, "2026-11")
        session.rollback()

    ticks, done = [0], [False]

    def ticker():
        while not done[0]:
            eventlet.sleep(0.005)
            ticks[0] += 1

    thread = eventlet.spawn(ticker)
    with Session(pg_engine) as session:
        started = datetime.now()
        payload = closings.close(session, books, "2026-11", None, STAMP, early=True)
        session.commit()
        took = (datetime.now() - started) / timedelta(seconds=1)
    done[0] = True
    thread.wait()
    with Session(pg_engine) as session:
        found = frozen(session, "2026-11")
    assert payload == expected_payload
    assert found == expected
    assert len(found[0]) > 20_000
    assert ticks[0] >= min(10, took / 0.005 / 4), (ticks[0], took)
