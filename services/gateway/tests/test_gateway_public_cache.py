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


class Deferred:
    """A ``spawn`` that keeps the background calls until the test runs them."""

    def __init__(self):
        self.queued = []

    def __call__(self, fn):
        self.queued.append(fn)

    def run(self):
        queued, self.queued = self.queued, []
        for fn in queued:
            fn()


def test_a_half_aged_answer_is_given_at_once_while_one_background_call_fetches_the_next():
    clock, spawn = Clock(), Deferred()
    cache = PublicCache(1.0, clock=clock, spawn=spawn)
    answers = iter(["first", "second"])
    calls = []

    def call():
        calls.append(1)
        return next(answers)
    assert cache.answer("k", call) == "first"
    clock.now += 0.4
    assert cache.answer("k", call) == "first" and spawn.queued == []
    clock.now += 0.2
    assert [cache.answer("k", call) for _ in range(5)] == ["first"] * 5
    assert len(spawn.queued) == 1 and len(calls) == 1
    spawn.run()
    assert cache.answer("k", call) == "second" and len(calls) == 2
    clock.now += 0.9
    assert cache.answer("k", call) == "second", "the refreshed answer lives from its own call"


def test_a_failed_background_call_leaves_the_kept_answer_to_its_end_and_is_one_log_line(caplog):
    clock, spawn = Clock(), Deferred()
    cache = PublicCache(1.0, clock=clock, spawn=spawn)
    cache.answer("k", lambda: "kept")
    clock.now += 0.6

    def failing():
        raise TimeoutError("stars gave no answer")
    assert cache.answer("k", failing) == "kept"
    with caplog.at_level("WARNING", logger="services.gateway.public_cache"):
        spawn.run()
    assert [r.getMessage() for r in caplog.records] == [
        'public read k not refreshed: TimeoutError: stars gave no answer']
    assert not any(r.exc_info for r in caplog.records)
    assert cache.answer("k", failing) == "kept", "the next read tries again in the background"
    assert len(spawn.queued) == 1
    spawn.run()
    clock.now += 0.5
    with pytest.raises(TimeoutError):
        cache.answer("k", failing)


def test_a_reader_of_an_expired_answer_waits_for_the_background_call_in_flight():
    clock = Clock()
    cache = PublicCache(1.0, clock=clock)
    calls = []

    def slow():
        calls.append(1)
        eventlet.sleep(0.05)
        return len(calls)
    assert cache.answer("k", slow) == 1
    clock.now += 0.7
    assert cache.answer("k", slow) == 1
    clock.now += 0.5
    assert cache.answer("k", slow) == 2 and len(calls) == 2


def test_a_rendered_answer_is_served_while_its_answer_is_kept_fresh_and_not_due():
    clock, spawn = Clock(), Deferred()
    cache = PublicCache(1.0, clock=clock, spawn=spawn)
    cache.answer("k", lambda: "first")
    cache.remember("/boards?p=1", "k", cache.entry("k"), b"first-bytes")
    assert cache.rendered("/boards?p=1") == b"first-bytes"
    assert cache.rendered("/boards?p=2") is None
    clock.now += 0.6
    assert cache.rendered("/boards?p=1") is None, "due for refresh: the full path starts it"
    assert cache.answer("k", lambda: "second") == "first" and len(spawn.queued) == 1
    assert cache.rendered("/boards?p=1") == b"first-bytes", "its refresh is in flight"
    spawn.run()
    assert cache.rendered("/boards?p=1") is None, "a new answer needs its own rendering"
    cache.remember("/boards?p=1", "k", cache.entry("k"), b"second-bytes")
    assert cache.rendered("/boards?p=1") == b"second-bytes"
    clock.now += 1.0
    assert cache.rendered("/boards?p=1") is None


def test_a_rendering_of_an_answer_no_longer_kept_is_not_remembered():
    cache = PublicCache(1.0, clock=Clock(), spawn=Deferred())
    cache.answer("k", lambda: "first")
    stale = cache.entry("k")
    cache._keep("k", "second", 100.0)
    cache.remember("/u", "k", stale, b"first-bytes")
    cache.remember("/v", "gone", None, b"x")
    assert cache.rendered("/u") is None and cache.rendered("/v") is None
    assert PublicCache(0).rendered("/u") is None


def test_a_kept_public_read_is_asked_as_no_one_in_particular():
    """The answer is given to every later reader, so it must not be one made for the caller."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from services.gateway.dispatch import Gateway
    from shared.api import Route

    class Recording:
        contexts = []

        def call(self, service, rpc, kwargs, context, timeout=None):
            self.contexts.append(context)
            return {"entries": []}
    route = Route("GET", "/boards/member", "top", "board", permission=None)
    cadre = {"user": "li", "kind": "user", "role": "village_cadre", "scope_unit_id": 7,
             "permissions": frozenset({"stars.read"})}
    gateway = Gateway(None, None, {}, Recording(), None, PublicCache(1.0, spawn=Deferred()))
    request = Request(EnvironBuilder(path="/api/v1/boards/member").get_environ())
    assert gateway.call_route("stars", route, {}, request, cadre, "req-1") == (
        200, {"entries": []})
    assert Recording.contexts == [{"correlation_id": "req-1", "role": "anonymous",
                                   "permissions": []}]


@pytest.mark.parametrize("value", [-1, 301, "1", True])
def test_the_setting_is_checked(value):
    from services.gateway import settings
    with pytest.raises(ValueError, match="public_cache_seconds"):
        settings.read({"gateway": {"token_secret": "s" * 40, "public_cache_seconds": value}})
