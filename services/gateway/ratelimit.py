"""Login attempts: how many failures in a window lock a name or an address out (pure)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5          # per user name, and per client address x 4, in the window
    window_seconds: int = 900


def retry_after(failures_by_name: int, failures_by_address: int, oldest_age_seconds: float,
                limits: LoginLimits) -> int | None:
    """Seconds to wait before another try, or None when a try is allowed now."""
    if failures_by_name >= limits.max_failures or \
            failures_by_address >= 4 * limits.max_failures:
        return max(1, int(limits.window_seconds - oldest_age_seconds))
    return None
