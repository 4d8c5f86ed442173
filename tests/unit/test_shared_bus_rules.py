"""Bus rules that need no broker: envelope, retry decisions, topology plan, contracts."""
import pytest

from shared.bus import retry, topology
from shared.contracts import registry
from shared.contracts.envelope import Envelope
from shared.errors import InvalidInput


def test_envelope_round_trips_and_correlates_to_itself_by_default():
    envelope = Envelope(type="activity_recorded", source="members", data={"a": 1})
    assert envelope.correlation_id == envelope.id and envelope.causation_id is None
    again = Envelope.from_wire(envelope.to_wire())
    assert again == envelope


def test_envelope_ignores_unknown_fields_and_names_missing_ones():
    wire = Envelope(type="x_done", source="s", data={}).to_wire()
    assert Envelope.from_wire({**wire, "extra": 1}).id == wire["id"]
    with pytest.raises(InvalidInput) as missing:
        Envelope.from_wire({"type": "x"})
    assert {"id", "source", "occurred_at", "data", "version"} <= set(missing.value.errors)
    with pytest.raises(InvalidInput):
        Envelope.from_wire(["not", "an", "object"])


@pytest.mark.parametrize("attempt, expected", [
    (1, ("retry", 1000, 2)), (2, ("retry", 5000, 3)), (3, ("dead_letter", None, 3)),
    (9, ("dead_letter", None, 9)),
])
def test_retries_follow_the_delays_then_dead_letter(attempt, expected):
    decision = retry.decide(attempt, [1000, 5000])
    assert (decision.action, decision.delay_ms, decision.next_attempt) == expected


def test_non_retryable_failures_dead_letter_at_once():
    assert retry.decide(1, [1000, 5000], retryable=False).action == "dead_letter"
    assert retry.decide(1, []).action == "dead_letter"


@pytest.mark.parametrize("headers, attempt", [(None, 1), ({}, 1), ({retry.ATTEMPT_HEADER: 3}, 3),
                                              ({retry.ATTEMPT_HEADER: "x"}, 1),
                                              ({retry.ATTEMPT_HEADER: 0}, 1)])
def test_attempt_is_read_defensively(headers, attempt):
    assert retry.attempt_of(headers) == attempt


def test_topology_plan_declares_queue_dlq_and_delays_for_every_subscription():
    specs = [topology.SubscriptionSpec.single("stars", "on_activity", "members", "activity_recorded")]
    plan = topology.plan({"members", "tickets"}, specs, [1000, 5000, 1000])
    names = plan.names()
    assert names["exchanges"] == ["jiceng.delay.1000ms", "jiceng.delay.5000ms", "members.events",
                                  "tickets.events"]
    assert names["queues"] == ["evt-members-activity_recorded--stars.on_activity",
                               "evt-members-activity_recorded--stars.on_activity.dlq",
                               "jiceng.delay.1000ms", "jiceng.delay.5000ms"]
    delay = next(q for q in plan.queues if q.name == "jiceng.delay.5000ms")
    assert delay.queue_arguments == {"x-message-ttl": 5000, "x-dead-letter-exchange": ""}
    consumer = next(q for q in plan.queues if q.name.endswith("on_activity"))
    assert consumer.durable and not consumer.auto_delete
    assert {(b.exchange.name, b.routing_key) for b in consumer.bindings} == {("members.events", "activity_recorded")}


def test_contract_validation_names_fields_and_dumps_plain_json():
    contract = registry.get("members", "activity_recorded")
    wire = contract.to_wire(contract.schema.example)
    assert wire["hours"] == "2.5" and wire["occurred_on"] == "2026-10-18"
    with pytest.raises(InvalidInput) as refused:
        contract.to_wire({**contract.schema.example, "kind": "dancing", "member_id": "x"})
    assert set(refused.value.errors) == {"kind", "member_id"}


def test_unknown_contract_is_a_lookup_error():
    with pytest.raises(LookupError, match="nobody.nothing_happened"):
        registry.get("nobody", "nothing_happened")


def test_registering_a_second_schema_under_the_same_name_is_refused():
    from marshmallow import Schema
    with pytest.raises(ValueError, match="registered twice"):
        registry.contract("members", "activity_recorded")(type("Other", (Schema,), {}))


def test_a_dynamic_subscription_is_one_queue_bound_to_every_listed_event():
    spec = topology.SubscriptionSpec("stars", "on_scored", (("members", "activity_recorded"),
                                                            ("tickets", "ticket_resolved")), True)
    plan = topology.plan({"members"}, [spec], [])
    assert plan.names()["exchanges"] == ["members.events", "tickets.events"]
    queue = next(q for q in plan.queues if q.name == "evt-dynamic--stars.on_scored")
    assert {(b.exchange.name, b.routing_key) for b in queue.bindings} == {
        ("members.events", "activity_recorded"), ("tickets.events", "ticket_resolved")}


def _tracking_publisher():
    from shared.bus.publisher import ConfirmingPublisher
    publisher = ConfirmingPublisher("amqp://unused")
    publisher._reset_tracking()
    return publisher


def test_a_multiple_nack_spares_the_tags_already_acked():
    publisher = _tracking_publisher()
    for tag in (1, 2, 3):
        publisher._on_ack(tag)
    publisher._on_nack(4, multiple=True)
    assert publisher._nacked == {4}
    assert all(publisher._settled(tag) for tag in (1, 2, 3, 4))


def test_a_multiple_nack_covers_every_unconfirmed_tag_and_a_multiple_ack_settles_the_rest():
    publisher = _tracking_publisher()
    publisher._on_ack(2)
    publisher._on_nack(3, multiple=True)
    assert publisher._nacked == {1, 3}
    publisher._on_ack(5, multiple=True)
    assert publisher._settled(4) and publisher._settled(5) and 4 not in publisher._nacked


def test_flatten_nested_messages():
    from shared.errors import flatten_messages
    assert flatten_messages({"a": {"b": ["x"], 0: {"c": ["y"]}}, "_schema": ["z"]}) == {
        "a.b": ["x"], "a.0.c": ["y"], "_schema": ["z"]}


# -- retry policy: capped exponential backoff with jitter ----------------------------------------

def test_retry_caps_grow_exponentially_up_to_the_maximum():
    assert [retry.capped(n, 1000, 30000) for n in range(1, 8)] == [
        1000, 2000, 4000, 8000, 16000, 30000, 30000]
    assert retry.capped(500, 1000, 30000) == 30000          # no overflow far out


def test_the_policy_comes_from_bus_retry_with_defaults_for_what_is_left_out():
    policy = retry.policy({"retry": {"attempts": 4, "base_ms": 500, "max_ms": 3000, "jitter": 0.2}})
    assert policy == retry.Policy((500, 1000, 2000, 3000), 0.2)
    assert policy.attempts == 4 and policy.delay_queues_ms == [500, 1000, 2000, 3000]
    assert retry.policy({}) == retry.Policy((1000, 2000, 4000, 8000, 16000), 0.5)
    assert retry.policy({"retry": {"attempts": 2}}).caps_ms == (1000, 2000)


def test_the_older_list_of_delays_still_works_as_the_caps_and_retry_wins_over_it():
    legacy = retry.policy({"retry_delays_ms": [1000, 5000, 30000]})
    assert legacy == retry.Policy((1000, 5000, 30000), retry.DEFAULT["jitter"])
    assert legacy.delay_queues_ms == [1000, 5000, 30000]     # the delay queues it always had
    both = retry.policy({"retry_delays_ms": [7], "retry": {"attempts": 1, "base_ms": 50}})
    assert both.caps_ms == (50,)


@pytest.mark.parametrize("bus, named", [
    ({"retry": {"attempts": -1}}, "attempts"), ({"retry": {"attempts": 2.5}}, "attempts"),
    ({"retry": {"base_ms": 0}}, "base_ms"), ({"retry": {"base_ms": 100, "max_ms": 50}}, "max_ms"),
    ({"retry": {"jitter": 1}}, "jitter"), ({"retry": {"jitter": "x"}}, "jitter"),
    ({"retry": {"tries": 3}}, "tries"), ({"retry_delays_ms": [100, -1]}, "retry_delays_ms"),
    ({"retry_delays_ms": "100"}, "retry_delays_ms"),
])
def test_a_wrong_retry_setting_is_named(bus, named):
    with pytest.raises(ValueError, match=named):
        retry.policy(bus)


def test_each_retry_waits_between_its_cap_less_the_jitter_and_its_cap_in_its_caps_queue():
    policy = retry.Policy((1000, 2000, 4000), 0.5)
    longest = retry.decide(2, policy, rand=lambda: 0.0)
    shortest = retry.decide(2, policy, rand=lambda: 1.0)
    assert (longest.action, longest.delay_ms, longest.queue_ms, longest.next_attempt) == (
        "retry", 2000, 2000, 3)
    assert (shortest.delay_ms, shortest.queue_ms) == (1000, 2000)
    import random
    rng = random.Random(7)
    drawn = {retry.decide(3, policy, rand=rng.random).delay_ms for _ in range(200)}
    assert min(drawn) >= 2000 and max(drawn) <= 4000 and len(drawn) > 50    # spread out
    assert retry.decide(4, policy).action == "dead_letter"


def test_a_loop_backs_off_exponentially_with_jitter_up_to_its_cap_and_starts_again_on_success():
    backoff = retry.Backoff(base=0.5, cap=4.0, jitter=0.5, rand=lambda: 0.0)
    assert [backoff.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next() == 0.5
    low = retry.Backoff(base=0.5, cap=4.0, jitter=0.5, rand=lambda: 1.0)
    assert [low.next() for _ in range(4)] == [0.25, 0.5, 1.0, 2.0]


def test_an_outage_is_a_connection_failure_not_an_error_in_the_data():
    from sqlalchemy import exc as db_errors
    refused = db_errors.OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert retry.outage(refused)
    assert retry.outage(db_errors.InterfaceError("x", {}, Exception("closed")))
    assert retry.outage(db_errors.TimeoutError("QueuePool limit reached"))
    lost = db_errors.DBAPIError("x", {}, Exception("gone"), connection_invalidated=True)
    assert retry.outage(lost)
    assert not retry.outage(db_errors.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not retry.outage(db_errors.DataError("INSERT", {}, Exception("out of range")))
    assert not retry.outage(ValueError("bug"))


def test_the_topology_declares_one_delay_queue_per_distinct_cap():
    spec = topology.SubscriptionSpec.single("stars", "on_activity", "members", "activity_recorded")
    policy = retry.policy({"retry": {"attempts": 7, "base_ms": 1000, "max_ms": 8000}})
    names = topology.plan({"members"}, [spec], policy.delay_queues_ms).names()["queues"]
    assert [n for n in names if n.startswith("jiceng.delay.")] == [
        "jiceng.delay.1000ms", "jiceng.delay.2000ms", "jiceng.delay.4000ms", "jiceng.delay.8000ms"]
