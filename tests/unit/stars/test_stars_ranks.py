"""``ranks``: counters kept by moves answer exactly as ``rankings.ranking`` over the same data,
on SQLite and PostgreSQL, and ``rebuild`` finds the same counters."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, delete, insert, select, update
from sqlalchemy.orm import Session

from services.stars import rankings, ranks
from services.stars.models import (Base, RankBucket, RankIdBlock, RankTie, ScopeSize, StandingRow,
                                   Subject)
from shared import db

PERIODS = ("2026-11", "2026-Q4")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
TIMES = [None, T0, T0 + timedelta(hours=1), T0 + timedelta(days=3),  # ties by day and within one
         datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=timezone.utc),
         datetime(2026, 11, 3, tzinfo=timezone.utc), datetime(2026, 11, 3, 5, tzinfo=timezone.utc)]
SCORES = [Decimal(s) for s in ("-2.5", "-0.05", "0", "0", "0.5", "0.99", "1", "1.0001", "2",
                               "3.75", "12")]
# ids around the block boundaries (256, 16384) and a few anywhere
IDS = st.one_of(st.sampled_from([1, 2, 255, 256, 257, 511, 16383, 16384, 16385, 32768, 40000]),
                st.integers(1, 70_000))
COUNTERS = (RankBucket.__table__, RankTie.__table__, RankIdBlock.__table__, ScopeSize.__table__)
TABLES = COUNTERS + (StandingRow.__table__, Subject.__table__)


@pytest.fixture
def engine(db_url_factory):
    engine = db.database(db_url_factory()).engine
    # standings.reached_at is NOT NULL today; ranks allows None (never reached), so the tables
    # are created with it nullable to cover that case too
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["standings"].c.reached_at.nullable = True
    metadata.create_all(engine)
    return engine


def places(kind):
    township = st.sampled_from([1, 2, None]) if kind != "committee" else st.just(None)
    branch = st.sampled_from([1, 2, 3, None]) if kind == "member" else st.just(None)
    return st.builds(ranks.Place, branch, township, st.sampled_from([True, True, True, False]))


# a few common figures make ties likely (same level and score, same day, never reached)
COMMON = [(1, Decimal(2), None), (1, Decimal(2), TIMES[1]), (1, Decimal(2), TIMES[2]),
          (1, Decimal(2), TIMES[5]), (0, Decimal(0), None), (0, Decimal(0), TIMES[6])]
figures = st.one_of(st.none(), st.sampled_from(COMMON), st.sampled_from(COMMON),
                    st.tuples(st.integers(0, 3), st.sampled_from(SCORES), st.sampled_from(TIMES)))


class World:
    """The data as Python objects, written to the database and counted through the write API."""

    def __init__(self, session):
        self.session = session
        self.places: dict[tuple, ranks.Place] = {}
        self.rows: dict[tuple, ranks.Entry] = {}

    def entry(self, kind, subject_id, figure):
        if figure is None:
            return None
        place = self.places[(kind, subject_id)]
        township = subject_id if kind == "committee" else place.township_id
        return ranks.Entry(figure[0], figure[1], figure[2], place.branch_id, township, place.active)

    def place(self, kind, subject_id, place, standing_moves, directory_moves):
        before = self.places.get((kind, subject_id))
        self.places[(kind, subject_id)] = place
        directory_moves.append((kind, subject_id, before, place))
        values = {"branch_id": place.branch_id, "township_id": place.township_id,
                  "active": place.active}
        if before is None:
            self.session.execute(insert(Subject.__table__), {"kind": kind, "id": subject_id, **values})
            return
        self.session.execute(update(Subject.__table__).where(
            Subject.kind == kind, Subject.id == subject_id).values(**values))
        for period in PERIODS:
            old = self.rows.get((kind, subject_id, period))
            if old is not None:
                self.figure(kind, subject_id, period, (old.level, old.score, old.reached_at),
                            standing_moves)

    def figure(self, kind, subject_id, period, figure, standing_moves):
        key = (kind, subject_id, period)
        before, after = self.rows.get(key), self.entry(kind, subject_id, figure)
        standing_moves.append((kind, subject_id, period, before, after))
        table = StandingRow.__table__
        where = (table.c.subject_kind == kind, table.c.subject_id == subject_id,
                 table.c.period == period)
        self.session.execute(delete(table).where(*where))
        self.rows.pop(key, None)
        if after is None:
            return
        self.rows[key] = after
        self.session.execute(insert(table), {
            "subject_kind": kind, "subject_id": subject_id, "period": period, "own_score": 0,
            "score": after.score, "level": after.level, "vetoes": [], "reached_at": after.reached_at,
            "rulebook_version": "t", "branch_id": after.branch_id, "township_id": after.township_id,
            "active": after.active})

    # -- the reference -------------------------------------------------------------------------

    def standing(self, kind, subject_id, period):
        entry = self.rows.get((kind, subject_id, period))
        if entry is None:
            return rankings.Standing(subject_id, 0, Decimal(0), None)
        return rankings.Standing(subject_id, entry.level, entry.score, entry.reached_at)

    def scope_of(self, kind, subject_id):
        place = self.places[(kind, subject_id)]
        return ranks.scope_ids(kind, place.branch_id, place.township_id)

    def expected(self, kind, period, scope, scope_id, extra=None):
        chosen = [self.standing(k, i, period) for (k, i), place in self.places.items()
                  if k == kind and place.active and self.scope_of(k, i).get(scope) == scope_id]
        if extra is not None:
            chosen.append(self.standing(kind, extra, period))
        return rankings.ranking(chosen)


def snapshot(session):
    found = {}
    for table in COUNTERS:
        found[table.name] = sorted(
            tuple(str(v) if isinstance(v, Decimal) else v for v in row)
            for row in session.execute(select(table).where(table.c.subjects != 0)))
    return found


def check(world, session):
    for (kind, subject_id), place in world.places.items():
        scopes = world.scope_of(kind, subject_id)
        for period in PERIODS:
            figure = world.rows.get((kind, subject_id, period))
            if figure is None and not place.active:  # the caller passes a figure for these
                figure = world.entry(kind, subject_id, (0, Decimal(0), None))
            for scope in ranks.SCOPES_OF[kind]:
                got = ranks.rank_of(session, kind, subject_id, period, scope, place.branch_id,
                                    place.township_id, figure)
                if scope not in scopes:
                    assert got["rank"] is None and got["size"] == 0
                    continue
                ranking = world.expected(kind, period, scope, scopes[scope],
                                         extra=None if place.active else subject_id)
                position = next(r.position for r in ranking if r.subject_id == subject_id)
                assert (got["rank"], got["size"]) == (position, len(ranking)), \
                    (kind, subject_id, period, scope, figure)
    for kind, scopes in ranks.SCOPES_OF.items():
        for period in PERIODS:
            levels = [r.standing.level for r in world.expected(kind, period, "county", 0)]
            assert ranks.distribution(session, kind, period) == {
                str(level): levels.count(level) for level in range(6)}
            for scope in scopes:
                for scope_id in ([0] if scope == "county" else [1, 2, 3]):
                    ranking = world.expected(kind, period, scope, scope_id)
                    for n in {1, 3, len(ranking) + 1}:
                        got = ranks.top(session, kind, scope, scope_id, period, n)
                        assert got == [{"rank": r.position, "subject_id": r.subject_id,
                                        "level": r.standing.level,
                                        "score": ranks.shown(r.standing.score),
                                        "tied_with_previous": r.tied_with_previous}
                                       for r in ranking[:n]], (kind, period, scope, scope_id, n)
                        threshold = ranks.top_threshold(session, kind, scope, scope_id, period, n)
                        for r in ranking:
                            entry = world.rows.get((kind, r.subject_id, period))
                            assert ranks.on_board(threshold, r.subject_id, entry) == (r.position <= n)


@st.composite
def histories(draw):
    """Subjects of each kind, then batches of moves (figures and places)."""
    subjects = []
    for kind, most in (("member", 14), ("branch", 5), ("committee", 3)):
        for subject_id in draw(st.lists(IDS, max_size=most, unique=True)):
            subjects.append((kind, subject_id, draw(places(kind))))
    batches = []
    if subjects:
        step = st.one_of(
            st.tuples(st.just("figure"), st.sampled_from(subjects), st.sampled_from(PERIODS), figures),
            st.tuples(st.just("place"), st.sampled_from(subjects), st.none(), st.none()))
        for _ in range(draw(st.integers(1, 5))):
            batch = []
            for op, (kind, subject_id, _place), period, figure in draw(st.lists(step, max_size=12)):
                if op == "place":
                    figure = draw(places(kind))
                batch.append((op, kind, subject_id, period, figure))
            batches.append(batch)
    return subjects, batches


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_counters_rank_as_the_reference(engine, history):
    subjects, batches = history
    with Session(engine) as session:
        for table in TABLES:
            session.execute(delete(table))
        world = World(session)
        standing_moves, directory_moves = [], []
        for kind, subject_id, place in subjects:
            world.place(kind, subject_id, place, standing_moves, directory_moves)
        ranks.apply_directory_moves(session, directory_moves)
        for batch in batches:
            standing_moves, directory_moves = [], []
            for op, kind, subject_id, period, value in batch:
                if op == "place":
                    world.place(kind, subject_id, value, standing_moves, directory_moves)
                else:
                    world.figure(kind, subject_id, period, value, standing_moves)
            ranks.apply_standing_moves(session, standing_moves)
            ranks.apply_directory_moves(session, directory_moves)
        session.commit()
        check(world, session)
        maintained = snapshot(session)
        ranks.rebuild(session)
        assert snapshot(session) == maintained
        check(world, session)
        session.commit()


def test_ties_and_the_tail_across_blocks(engine):
    """Hundreds of members on a few figures (same day, same moment, never reached, no row), ids
    across id blocks: every rank and board as the reference, then the same after ``rebuild``."""
    shapes = COMMON + [None, (0, Decimal("-0.05"), TIMES[1]), (1, Decimal("2.5"), TIMES[3])]
    with Session(engine) as session:
        world, standing_moves, directory_moves = World(session), [], []
        for number, subject_id in enumerate(range(1, 40_000, 211)):
            place = ranks.Place(1 + number % 2, 1, number % 23 != 0)
            world.place("member", subject_id, place, standing_moves, directory_moves)
            shape = shapes[number * 7 % len(shapes)]
            if shape is not None:
                world.figure("member", subject_id, PERIODS[0], shape, standing_moves)
        ranks.apply_directory_moves(session, directory_moves)
        ranks.apply_standing_moves(session, standing_moves)
        check(world, session)
        maintained = snapshot(session)
        ranks.rebuild(session)
        assert snapshot(session) == maintained


def test_moves_cancel_in_one_batch(engine):
    with Session(engine) as session:
        entry = ranks.Entry(2, Decimal("3.5"), T0, 1, 1, True)
        ranks.apply_standing_moves(session, [("member", 7, "2026-11", None, entry),
                                             ("member", 7, "2026-11", entry, None)])
        ranks.apply_directory_moves(session, [("member", 7, None, (1, 1, True)),
                                              ("member", 7, (1, 1, True), (1, 1, False))])
        assert snapshot(session) == {table.name: [] for table in COUNTERS}
