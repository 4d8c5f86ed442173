"""The pure parts of ``@subscribe_batch``: partition shares, batch cutting, partition keys, the
partitioned topology plan, body decoding; and the bulk inbox claim on SQLite."""
import json
import random
from types import SimpleNamespace

import pytest
from sqlalchemy import MetaData

from shared import db
from shared.bus import partitions, topology
from shared.bus.batch import Batcher, decode
from shared.bus.outbox import Relay
from shared.bus.store import StoreHandle
from shared.bus.tables import add_bus_tables
from shared.contracts.envelope import PARTITION_HEADER, Envelope, partition_key
from shared.errors import InvalidInput


@pytest.mark.parametrize("n, live, share", [(4, 1, 4), (4, 2, 2), (4, 3, 2), (8, 3, 3), (2, 3, 1),
                                            (1, 5, 1), (4, 0, 4)])
def test_fair_share_is_the_ceiling_of_partitions_per_live_process(n, live, share):
    assert partitions.fair_share(n, live) == share


def test_a_process_takes_up_to_its_share_and_gives_back_one_above_it():
    assert partitions.step(4, 1, 0, 0) == partitions.Step(take=4, release=False, cap=4)
    assert partitions.step(4, 3, 4, 0) == partitions.Step(take=0, release=True, cap=2)
    assert partitions.step(4, 3, 2, 0) == partitions.Step(take=0, release=False, cap=2)
    assert partitions.step(4, 3, 1, 0) == partitions.Step(take=1, release=False, cap=2)


def test_while_another_process_waits_the_others_keep_only_the_lower_share():
    assert partitions.step(4, 3, 2, others_waiting=1) == partitions.Step(0, True, 1)
    assert partitions.step(4, 3, 1, others_waiting=1) == partitions.Step(0, False, 1)
    assert partitions.waiting(4, 3, 0) and not partitions.waiting(4, 3, 1)
    assert not partitions.waiting(2, 3, 0)       # more processes than partitions: a spare


def test_rotation_tries_every_partition_once_from_the_start():
    assert partitions.rotation(4, 2) == [2, 3, 0, 1]
    assert partitions.rotation(1, 0) == [0]


def simulate(n, live, held, rounds, rng):
    """Processes ticking in random order against a fake broker: who holds which partition."""
    owner = {p: i for i, mine in enumerate(held) for p in mine}
    waits = [False] * live
    for _ in range(rounds):
        for i in rng.sample(range(live), live):
            mine = [p for p, o in owner.items() if o == i]
            decision = partitions.step(n, live, len(mine), sum(waits) - waits[i])
            if decision.release:
                del owner[rng.choice(mine)]
            free = [p for p in partitions.rotation(n, rng.randrange(n)) if p not in owner]
            for p in free[:decision.take]:
                owner[p] = i
            waits[i] = partitions.waiting(n, live, sum(1 for o in owner.values() if o == i))
    return [sum(1 for o in owner.values() if o == i) for i in range(live)]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 12])
@pytest.mark.parametrize("live", [1, 2, 3, 4, 5])
def test_any_start_settles_with_every_partition_held_and_shares_within_one(n, live):
    rng = random.Random(n * 100 + live)
    greedy, start = [], 0                        # the first processes took their whole share
    for _ in range(live):
        take = min(partitions.fair_share(n, live), n - start)
        greedy.append(list(range(start, start + take)))
        start += take
    one_has_all = [list(range(n))] + [[] for _ in range(live - 1)]
    for held in (greedy, one_has_all):
        counts = simulate(n, live, held, rounds=12, rng=rng)
        assert sum(counts) == n, counts
        assert max(counts) - min(counts) <= 1, (held, counts)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_batch_is_cut_at_its_size():
    batcher = Batcher(3, wait=1.0, clock=Clock())
    for item in range(7):
        batcher.add(item)
    assert batcher.ready() and batcher.take() == [0, 1, 2]
    assert batcher.ready() and batcher.take() == [3, 4, 5]
    assert len(batcher) == 1


def test_a_smaller_batch_is_cut_when_its_first_item_waited_long_enough():
    clock = Clock()
    batcher = Batcher(500, wait=0.05, clock=clock)
    assert not batcher.ready() and batcher.time_left() is None
    batcher.add("a")
    clock.now += 0.03
    batcher.add("b")
    assert not batcher.ready() and batcher.time_left() == pytest.approx(0.02)
    clock.now += 0.02
    assert batcher.ready() and batcher.take() == ["a", "b"]
    assert not batcher.ready()


def test_released_partitions_leave_the_buffer():
    batcher = Batcher(10, wait=1.0, clock=Clock())
    for partition in (0, 1, 0, 2):
        batcher.add(SimpleNamespace(partition=partition))
    batcher.drop(lambda delivery: delivery.partition in {0})
    assert [d.partition for d in batcher.take()] == [1, 2]


def test_events_are_partitioned_by_township_else_by_unit_else_by_their_id():
    about = Envelope(type="activity_recorded", source="members", data={"township_id": 7})
    assert partition_key(about) == "7" == partition_key(about.to_wire())
    # a city-level branch: its members' events and its own org-unit events meet in one partition
    member = Envelope(type="activity_revoked", source="members",
                      data={"township_id": None, "branch_id": 40, "member_id": 3})
    unit = Envelope(type="org_unit_created", source="members",
                    data={"township_id": None, "org_unit_id": 40})
    assert partition_key(member) == partition_key(unit) == "branch:40"
    loose = Envelope(type="org_unit_created", source="members", data={"township_id": None})
    assert partition_key(loose) == loose.id
    assert partition_key({"id": "e1", "data": {"member_id": 1}}) == "e1"
    assert partition_key({"id": "e2", "data": ["not", "a", "dict"]}) == "e2"


def test_the_relay_stamps_every_event_with_its_partition_key():
    sent = []
    publisher = SimpleNamespace(publish_batch=lambda batch: sent.extend(batch) or [True] * len(batch))
    relay = Relay(database=None, outbox_table=None, publisher=publisher)
    bodies = [Envelope(type="x_done", source="s", data={"township_id": 3}).to_wire(),
              Envelope(type="x_done", source="s", data={}).to_wire()]
    rows = [SimpleNamespace(id=i, event_id=b["id"], source="s", type="x_done",
                            body=json.dumps(b)) for i, b in enumerate(bodies)]
    relay._publish(rows)
    assert [m.headers[PARTITION_HEADER] for m in sent] == ["3", bodies[1]["id"]]


def partitioned_spec(n=4):
    return topology.SubscriptionSpec("stars", "on_events", (("members", "activity_recorded"),
                                                            ("tickets", "ticket_resolved")), True, n)


def test_a_partitioned_subscription_plans_a_hash_exchange_and_a_queue_per_partition():
    plan = topology.plan({"members"}, [partitioned_spec()], [1000])
    name = "evt-dynamic--stars.on_events"
    assert partitioned_spec().queue_names == [f"{name}.p{i}" for i in range(4)]
    assert plan.names()["queues"] == sorted(
        [f"{name}.p{i}" for i in range(4)] + [f"{name}.p{i}.dlq" for i in range(4)]
        + [f"{name}.members", f"{name}.waiting", "jiceng.delay.1000ms"])
    [hashing] = [e for e in plan.exchanges if e.name == name]
    assert hashing.type == "x-consistent-hash"
    assert hashing.arguments == {"hash-header": "x-partition-key"}
    assert {(d.name, s.name, key) for d, s, key in plan.exchange_bindings} == {
        (name, "members.events", "activity_recorded"), (name, "tickets.events", "ticket_resolved")}
    p2 = next(q for q in plan.queues if q.name == f"{name}.p2")
    assert (p2.exchange.name, p2.routing_key, p2.durable) == (name, topology.PARTITION_WEIGHT, True)


def test_one_partition_keeps_the_plain_dynamic_queue():
    plan = topology.plan(set(), [partitioned_spec(1)], [])
    assert plan.names()["queues"] == ["evt-dynamic--stars.on_events",
                                      "evt-dynamic--stars.on_events.dlq"]
    assert plan.exchange_bindings == []


def test_a_missing_hash_exchange_plugin_is_named_with_the_command_that_enables_it():
    class Channel:
        def exchange_declare(self, *args, **kwargs):
            raise RuntimeError("Exchange.declare: (503) COMMAND_INVALID - unknown exchange type "
                               "'x-consistent-hash'")

    with pytest.raises(topology.MissingPlugin,
                       match="rabbitmq-plugins enable rabbitmq_consistent_hash_exchange"):
        topology._declare_exchange(Channel(), topology.partition_exchange("evt-dynamic--s.m"))


def message(body, content_type="application/json"):
    return SimpleNamespace(body=body, content_type=content_type)


def test_bodies_are_decoded_as_utf8_json_or_refused_with_a_reason():
    assert decode(message(b'{"a": 1}')) == {"a": 1}
    with pytest.raises(InvalidInput, match="not UTF-8 JSON"):
        decode(message(b"\xff\xfe"))
    with pytest.raises(InvalidInput, match="not application/json"):
        decode(message(b"\x80\x04", "application/x-python-serialize"))


def test_a_batch_claim_leaves_out_what_was_handled_and_repeats_in_delivery_order(tmp_path):
    metadata = MetaData()
    outbox, inbox = add_bus_tables(metadata)
    url = f"sqlite:///{tmp_path}/inbox.sqlite"
    database = db.database(url)
    metadata.create_all(database.engine)
    try:
        handle = StoreHandle(database, outbox, inbox, "stars", {"consumer": "stars.on_events"})
        a, b, c = (Envelope(type="x_done", source="s", data={}) for _ in range(3))
        with handle.handling_batch([b, a, b]) as (session, fresh):
            assert fresh == [b, a]
        with handle.handling_batch([a, c, b, c]) as (session, fresh):
            assert fresh == [c]
        d = Envelope(type="x_done", source="s", data={})
        with pytest.raises(RuntimeError):
            with handle.handling_batch([d]) as (session, fresh):
                raise RuntimeError("rolled back, and its claims with it")
        with handle.handling_batch([d, a]) as (session, fresh):
            assert fresh == [d]
        with handle.handling_batch([]) as (session, fresh):
            assert fresh == []
    finally:
        db.forget(url)
