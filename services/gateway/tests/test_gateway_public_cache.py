"""``PublicCache``: repeats of a public read answered from memory for a moment, one call in
flight per question, failures never kept (pure, with a hand-driven clock and green threads)."""
import eventlet
import pytest

from services.gateway.public_cache import PublicCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def counting(value="board"):
    calls = []

    def call():
        calls.append(1)
        return value
    return call, calls


def test_a_repeat_within_the_moment_is_answered_without_a_call_and_after_it_asks_again():
    clock = Clock()
    cache = PublicCache(1.0, clock=clock)
    call, calls = counting()
    key = cache.key("stars", "top", {"subject_kind": "member", "limit": 50})
    assert cache.answer(key, call) == "board" and cache.answer(key, call) == "board"
    assert len(calls) == 1
    clock.now += 1.01
    cache.answer(key, call)
    assert len(calls) == 2


def test_keys_differ_by_every_argument_and_not_by_their_order():
    assert PublicCache.key("s", "top", {"a": 1, "b": 2}) == PublicCache.key("s", "top",
                                                                             {"b": 2, "a": 1})
    assert PublicCache.key("s", "top", {"a": 1}) != PublicCache.key("s", "top", {"a": 2})
    assert PublicCache.key("s", "top", {}) != PublicCache.key("s", "distribution", {})


def test_concurrent_askers_share_the_one_call_in_flight():
    cache = PublicCache(1.0)
    calls = []

    def slow():
        calls.append(1)
        eventlet.sleep(0.05)
        return {"items": [1, 2, 3]}

    pool = eventlet.GreenPool()
    answers = list(pool.imap(lambda _: cache.answer("k", slow), range(20)))
    assert len(calls) == 1 and all(a == {"items": [1, 2, 3]} for a in answers)


def test_a_failure_reaches_every_waiter_and_is_not_kept():
    cache = PublicCache(1.0)

    def failing():
        eventlet.sleep(0.02)
        raise TimeoutError("stars gave no answer")

    pool = eventlet.GreenPool()
    outcomes = []

    def ask(_):
        try:
            cache.answer("k", failing)
        except TimeoutError as exc:
            outcomes.append(str(exc))
    for _ in pool.imap(ask, range(5)):
        pass
    assert outcomes == ["stars gave no answer"] * 5
    call, calls = counting()
    assert cache.answer("k", call) == "board" and len(calls) == 1


def test_zero_seconds_turns_it_off_and_the_table_stays_bounded():
    off = PublicCache(0)
    call, calls = counting()
    off.answer("k", call), off.answer("k", call)
    assert len(calls) == 2
    clock = Clock()
    small = PublicCache(1.0, max_entries=3, clock=clock)
    for index in range(10):
        small.answer(f"k{index}", lambda: index)
    assert len(small._kept) <= 3


@pytest.mark.parametrize("value", [-1, 301, "1", True])
def test_the_setting_is_checked(value):
    from services.gateway import settings
    with pytest.raises(ValueError, match="public_cache_seconds"):
        settings.read({"gateway": {"token_secret": "s" * 40, "public_cache_seconds": value}})
