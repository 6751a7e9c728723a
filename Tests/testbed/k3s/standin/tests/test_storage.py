"""Write-behind persistence: a rewrite that takes long is followed by a pause 9 times as long."""
import threading
import time

from standin.storage import WriteBehind


class SlowStore:
    """A store whose rewrite takes `seconds`, as a large one does; records when each rewrite started."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.lock = threading.RLock()
        self.starts = []

    def flush(self):
        self.starts.append(time.monotonic())
        time.sleep(self.seconds)


def test_rewrites_of_a_slow_store_are_spaced_by_nine_times_their_duration():
    writer, store = WriteBehind(), SlowStore(0.1)
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:      # a write every 10 ms, as a busy client makes them
        writer.mark(store)
        time.sleep(0.01)
    assert len(store.starts) >= 2
    gaps = [b - a for a, b in zip(store.starts, store.starts[1:])]
    # each gap = the rewrite (>= 0.1 s) + the pause after it (>= 9 x 0.1 s); a fixed 0.2 s pause gives 0.3 s
    assert min(gaps) >= 1.0, gaps


def test_a_fast_store_is_rewritten_every_two_tenths_of_a_second():
    writer, store = WriteBehind(), SlowStore(0.0)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        writer.mark(store)
        time.sleep(0.01)
    time.sleep(0.3)
    # the pause never drops under 0.2 s, and a small store is not held back longer than that (under load a
    # gap may stretch, so only the lower bound and at least two rewrites in 1.3 s are asserted)
    gaps = [b - a for a, b in zip(store.starts, store.starts[1:])]
    assert len(store.starts) >= 2 and min(gaps) >= 0.2, gaps
