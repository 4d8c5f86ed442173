import time
from contextlib import contextmanager

from nameko.runners import ServiceRunner


@contextmanager
def services_running(config, *classes):
    runner = ServiceRunner(config)
    for cls in classes:
        runner.add_service(cls)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message} (last: {last!r})")
