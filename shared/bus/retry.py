"""What happens to a message whose handler failed: the rule, as a pure function."""
from dataclasses import dataclass

ATTEMPT_HEADER = "x-jiceng-attempt"


@dataclass(frozen=True)
class Decision:
    action: str          # "retry" or "dead_letter"
    delay_ms: int | None
    next_attempt: int


def decide(attempt: int, delays_ms: list[int], retryable: bool = True) -> Decision:
    """``attempt`` is 1 for the first delivery. With delays [1000, 5000] a message is tried three
    times (at once, after 1 s, after 5 s) and then dead-lettered. Non-retryable failures (a
    payload that breaks its contract) are dead-lettered at once."""
    if retryable and attempt <= len(delays_ms):
        return Decision("retry", int(delays_ms[attempt - 1]), attempt + 1)
    return Decision("dead_letter", None, attempt)


def attempt_of(headers) -> int:
    try:
        return max(1, int((headers or {}).get(ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1
