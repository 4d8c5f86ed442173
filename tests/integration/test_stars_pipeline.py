"""The stars batch pipeline on a real session (PostgreSQL and SQLite), without the broker: built
envelopes in, ledger, standings and outbox rows checked. Order and batch size must not matter."""
import json
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from services.stars import books, pipeline
from services.stars.models import Base
from shared import db
from shared.bus.outbox import BusSession
from shared.bus.tables import add_bus_tables
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from tests.support.stars_state import scoring_state

DAY = date.today() - timedelta(days=2)
TOWN, VILLAGE, COMMUNITY = 2, 12, 13
OUTBOX, _ = add_bus_tables(Base.metadata)


@pytest.fixture
def database(db_url_factory):
    database = db.database(db_url_factory())
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def envelope(event_type, occurred_at=None, **data):
    contract = registry.get("members", event_type)
    wire = Envelope(type=event_type, source="members", version=contract.version,
                    data=contract.to_wire(data), **({"occurred_at": occurred_at} if occurred_at else {}))
    return Envelope(**{**wire.to_wire(), "data": contract.load(wire.data)})


def place(member_id, branch_id=VILLAGE):
    return {"member_id": member_id, "branch_id": branch_id, "township_id": TOWN, "category": "rural"}


def directory_events():
    town = envelope("org_unit_created", org_unit_id=TOWN, parent_id=1, township_id=TOWN,
                    kind="township_committee", name="旧城镇党委")
    village = envelope("org_unit_created", org_unit_id=VILLAGE, parent_id=TOWN, township_id=TOWN,
                       kind="village_branch", name="前辛庄村党支部")
    community = envelope("org_unit_created", org_unit_id=COMMUNITY, parent_id=TOWN,
                         township_id=TOWN, kind="community_branch", name="渤海路社区党支部")
    members = [envelope("member_registered", **place(m, VILLAGE if m < 105 else COMMUNITY),
                        name=f"m{m}", status="full", join_date="2005-07-01")
               for m in range(101, 108)]
    return [town, village, community, *members]


def volunteer(member_id, hours, activity_id, day=DAY):
    return envelope("activity_recorded", **place(member_id, VILLAGE if member_id < 105 else COMMUNITY),
                    activity_id=activity_id, kind="volunteer_service", occurred_on=day.isoformat(),
                    hours=str(hours))


def revoke(activity, reason="wrong member"):
    data = activity.data
    return envelope("activity_revoked", member_id=data["member_id"], branch_id=data["branch_id"],
                    township_id=data["township_id"], category=data["category"],
                    activity_id=data["activity_id"], revoked_event_id=activity.id, reason=reason)


def absorb(database, rulebooks, events):
    info = dict(outbox_table=OUTBOX, source="stars")
    with database.transaction(BusSession, info) as session:
        return pipeline.absorb(session, rulebooks, events)


def state(database):
    """Everything the scoring decides: standings (without when), ledger sums per subject."""
    return scoring_state(database)


def counters(database):
    """The rank counters (non-zero rows), as maintained batch by batch."""
    from services.stars.models import RankBucket, RankIdBlock, ScopeSize
    with database.reading() as session:
        return {table.__tablename__: sorted(tuple(row) for row in session.execute(select(table.__table__))
                                            if row.subjects)
                for table in (RankBucket, RankIdBlock, ScopeSize)}


def assert_counters_rebuild_the_same(database):
    from services.stars import ranks
    kept = counters(database)
    with database.transaction() as session:
        ranks.rebuild(session)
    assert counters(database) == kept


def outbox(database):
    table = OUTBOX
    with database.reading() as session:
        return [json.loads(body) for body in session.scalars(select(table.c.body).order_by(table.c.id))]


def month_score(database, kind, subject_id):
    key = (kind, subject_id, DAY.strftime("%Y-%m"))
    return state(database)[0].get(key, (0, Decimal(0), 0))[1]


def test_a_batch_scores_members_and_rolls_up_once_per_subject(database, rulebooks):
    absorb(database, rulebooks, directory_events())
    activities = [volunteer(101, 3, 1), volunteer(101, 2, 2), volunteer(102, 4, 3),
                  volunteer(105, 1, 4)]
    absorb(database, rulebooks, activities)
    assert month_score(database, "member", 101) == Decimal(5)
    assert month_score(database, "member", 102) == Decimal(4)
    assert month_score(database, "branch", VILLAGE) > 0
    assert month_score(database, "committee", TOWN) >= 0
    changed = [e["data"] for e in outbox(database) if e["type"] == "score_changed"
               and e["data"]["cause"] == "scored"]
    by_subject = Counter((d["subject_kind"], d["subject_id"]) for d in changed)
    assert by_subject[("member", 101)] == 1, "one score_changed per subject per batch"
    first = next(d for d in changed if d["subject_id"] == 101)
    assert first["source_event_ids"] == [activities[0].id, activities[1].id]
    assert first["source_event_id"] == activities[1].id
    assert first["month_score"] == "5.00"
    rolled = [e["data"] for e in outbox(database) if e["type"] == "score_changed"
              and e["data"]["subject_kind"] == "branch"]
    assert [d["subject_id"] for d in rolled] == [VILLAGE, COMMUNITY]
    committee = [e["data"] for e in outbox(database) if e["type"] == "score_changed"
                 and e["data"]["subject_kind"] == "committee"]
    assert len(committee) <= 1


@pytest.mark.parametrize("order", ["activity_first", "revocation_first", "same_batch",
                                   "same_batch_revocation_first"])
def test_an_activity_and_its_revocation_net_to_zero_in_any_order(database, rulebooks, order):
    absorb(database, rulebooks, directory_events())
    kept, gone = volunteer(101, 2, 10), volunteer(101, 3, 11)
    revocation = revoke(gone)
    batches = {"activity_first": [[kept, gone], [revocation]],
               "revocation_first": [[revocation], [kept, gone]],
               "same_batch": [[kept, gone, revocation]],
               "same_batch_revocation_first": [[revocation, kept, gone]]}[order]
    for events in batches:
        absorb(database, rulebooks, events)
    assert month_score(database, "member", 101) == Decimal(2)
    assert state(database)[1][("member", 101)] == Decimal(2)


@pytest.mark.parametrize("first", ["activity", "revocation"])
def test_an_activity_and_its_revocation_in_concurrent_transactions_net_to_zero(
        database, rulebooks, first):
    """As when two consumers (partitions) handle them at once: the first transaction is held
    open while the second runs; neither may miss the other."""
    import eventlet
    absorb(database, rulebooks, directory_events())
    activity = volunteer(101, 3, 40)
    revocation = revoke(activity)
    held, other = (activity, revocation) if first == "activity" else (revocation, activity)
    info = dict(outbox_table=OUTBOX, source="stars")
    started = eventlet.event.Event()

    def hold():
        with database.transaction(BusSession, info) as session:
            pipeline.absorb(session, rulebooks, [held])
            started.send()
            eventlet.sleep(0.5)

    holder = eventlet.spawn(hold)
    started.wait()
    absorb(database, rulebooks, [other])
    holder.wait()
    assert state(database)[1].get(("member", 101), Decimal(0)) == Decimal(0)
    assert month_score(database, "member", 101) == Decimal(0)


def test_a_transfer_handled_beside_activities_of_the_old_branch_leaves_it_consistent(
        database, rulebooks):
    """The transfer is keyed by the new township (another partition), yet recomputes the old
    branch while the old township's consumer is scoring it: the result must be what a fresh
    recompute gives."""
    import eventlet
    from services.stars import recompute
    other_town, far_branch = 3, 31
    absorb(database, rulebooks, directory_events() + [
        envelope("org_unit_created", org_unit_id=other_town, parent_id=1, township_id=other_town,
                 kind="township_committee", name="另一镇"),
        envelope("org_unit_created", org_unit_id=far_branch, parent_id=other_town,
                 township_id=other_town, kind="village_branch", name="远村")])
    absorb(database, rulebooks, [volunteer(102, 4, 50)])
    info = dict(outbox_table=OUTBOX, source="stars")
    started = eventlet.event.Event()

    def hold():
        with database.transaction(BusSession, info) as session:
            pipeline.absorb(session, rulebooks, [volunteer(101, 8, 51), volunteer(103, 6, 52)])
            started.send()
            eventlet.sleep(0.5)

    holder = eventlet.spawn(hold)
    started.wait()
    absorb(database, rulebooks, [envelope(
        "member_transferred", member_id=102, branch_id=far_branch, township_id=other_town,
        category="rural", from_branch_id=VILLAGE, kind="transfer")])
    holder.wait()
    with database.transaction(BusSession, info) as session:
        again = recompute.recompute(session, rulebooks.books, {(("branch", VILLAGE), DAY)},
                                    pipeline.now())
    assert [(c.kind, c.id) for c in again] == [], "the old branch was left stale"


def test_a_rescore_that_reorders_a_board_publishes_ranking_changed(database, rulebooks):
    import yaml
    from services.stars import reports
    from services.stars.rulebook import load_rulebook
    absorb(database, rulebooks, directory_events())
    meeting = envelope("activity_recorded", **place(102), activity_id=61, kind="meeting",
                       occurred_on=DAY.isoformat(), meeting_kind="branch_assembly", attended=True)
    absorb(database, rulebooks, [volunteer(101, 3, 60), meeting])   # 3 points ahead of 2
    spec = yaml.safe_load(open(books.rulebook_dir({}) / "stars-2026.yaml", encoding="utf-8"))
    rule = next(r for r in spec["rules"] if r["id"] == "member-volunteer-hours")
    rule["points"]["amount"] = 0.5
    spec["version"] = "2026.1-halved"
    corrected = [load_rulebook(spec)]
    rescoring = SimpleNamespace(settings=rulebooks.settings, books=rulebooks.books,
                                reload=lambda: corrected)
    before = len(outbox(database))
    with database.transaction(BusSession, dict(outbox_table=OUTBOX, source="stars")) as session:
        summary, changes, taken = reports.rescore(session, rescoring, DAY.strftime("%Y-%m"),
                                                  "hours were over-counted", "李明", pipeline.now())
        pipeline.publish(session, changes, pipeline.Batch(cause="rescored"), taken)
    published = outbox(database)[before:]
    assert summary["events_rescored"] == 1                            # 1.5 points now, behind 2
    assert {e["data"]["cause"] for e in published if e["type"] == "score_changed"} == {"rescored"}
    moves = {(e["data"]["subject_id"], e["data"]["old_rank"], e["data"]["new_rank"])
             for e in published if e["type"] == "ranking_changed"
             and e["data"]["subject_kind"] == "member" and e["data"]["scope_kind"] == "branch"}
    assert (101, 1, 2) in moves


def test_a_revoked_activity_of_an_archived_year_stays(database, rulebooks):
    from services.stars.models import PeriodClosing
    absorb(database, rulebooks, directory_events())
    old = volunteer(101, 2, 20)
    absorb(database, rulebooks, [old])
    with database.transaction() as session:  # archived as the year close would
        session.add(PeriodClosing(period=str(DAY.year), period_kind="year", closed_at=func.now(),
                                  rulebook_version="x", summary={}))
    absorb(database, rulebooks, [revoke(old), volunteer(101, 5, 21)])
    assert state(database)[1][("member", 101)] == Decimal(2)


def stream():
    randomly = random.Random(11)
    activities = [volunteer(randomly.randint(101, 107), randomly.choice([1, 2, "2.5", 4, 9]),
                            n, DAY - timedelta(days=randomly.randint(0, 40)))
                  for n in range(120)]
    revocations = [revoke(a) for a in randomly.sample(activities, 25)]
    events = activities + revocations
    randomly.shuffle(events)
    return events


@pytest.mark.parametrize("size", [1, 7, 500])
def test_batch_size_and_order_do_not_change_the_result(db_url_factory, rulebooks, size):
    events = stream()
    results = []
    for shuffle in (False, True):
        database = db.database(db_url_factory())
        Base.metadata.create_all(database.engine)
        absorb(database, rulebooks, directory_events())
        ordered = list(events)
        if shuffle:
            random.Random(size).shuffle(ordered)
        for start in range(0, len(ordered), size):
            absorb(database, rulebooks, ordered[start:start + size])
        results.append(state(database))
        assert_counters_rebuild_the_same(database)
        database.dispose()
    reference = results[0]
    assert results[1] == reference
    expected = Counter()
    revoked = {e.data["revoked_event_id"] for e in events if e.type == "activity_revoked"}
    for event in events:
        if event.type == "activity_recorded" and event.id not in revoked:
            expected[event.data["member_id"]] += min(Decimal(8), Decimal(event.data["hours"]).quantize(
                Decimal("0.5"), rounding="ROUND_DOWN"))
    assert {k[1]: v for k, v in reference[1].items() if k[0] == "member"} == \
        {m: v for m, v in expected.items() if v}


def test_a_member_transferred_moves_out_of_the_old_branch_roll_up(database, rulebooks):
    absorb(database, rulebooks, directory_events())
    absorb(database, rulebooks, [volunteer(101, 8, 30)])
    before = month_score(database, "branch", VILLAGE)
    moved = envelope("member_transferred", **place(101, COMMUNITY), from_branch_id=VILLAGE,
                     kind="transfer")
    absorb(database, rulebooks, [moved])
    assert month_score(database, "branch", VILLAGE) < before
    assert month_score(database, "branch", COMMUNITY) > 0
    assert_counters_rebuild_the_same(database)
