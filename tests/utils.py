import time


def wait_for(predicate, *, timeout: float, interval: float = 0.1) -> bool:
    """Poll until predicate() is true or the timeout passes; the last answer is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
