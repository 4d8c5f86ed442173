"""Capped exponential backoff with jitter, and giving up after the last attempt."""
from datetime import datetime, timedelta, timezone

import pytest

from services.notify.backoff import Policy, ceiling, delay, next_attempt

POLICY = Policy(max_attempts=5, base_seconds=10, max_seconds=60, jitter=0.5)
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("failures,cap", [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60), (500, 60)])
def test_the_ceiling_doubles_up_to_the_cap(failures, cap):
    assert ceiling(failures, POLICY) == cap


def test_jitter_draws_between_half_and_the_whole_ceiling():
    assert delay(3, POLICY, rand=lambda: 0.0) == 40
    assert delay(3, POLICY, rand=lambda: 1.0) == 20
    assert delay(3, POLICY, rand=lambda: 0.5) == 30


def test_without_jitter_the_wait_is_the_ceiling():
    assert delay(2, Policy(5, 10, 60, 0.0), rand=lambda: 0.9) == 20


def test_the_next_attempt_is_after_the_wait_until_the_last_failure_gives_up():
    assert next_attempt(1, POLICY, NOW, rand=lambda: 0.0) == NOW + timedelta(seconds=10)
    assert next_attempt(4, POLICY, NOW, rand=lambda: 1.0) == NOW + timedelta(seconds=30)
    assert next_attempt(5, POLICY, NOW) is None
