"""The watch history: one global, bounded list of events (see ../README.md "Watch").

Every write of an object consumes one resourceVersion and publishes one event. A watch from resourceVersion N
replays the events after N; N older than the history gets the API server's 410 Expired ("too old resource
version"), as from its watch cache; clients then re-list."""

import collections
import os
import threading


WATCH_HISTORY = 1000

# kube-apiserver's cacher (k8s.io/apiserver/pkg/storage/cacher/cacher.go `defaultBookmarkFrequency = time.Minute`;
# cache_watcher.go `nextBookmarkTime`): a watch with allowWatchBookmarks gets a BOOKMARK roughly every minute and
# one 2 s before its deadline (timeoutSeconds), whatever other events it gets. The stand-in's default period is
# 2 s (the scenarios were written against it); K3S_STANDIN_BOOKMARK_SECONDS=60 gives the real one.
REAL_BOOKMARK_FREQUENCY = 60.0
BOOKMARK_FREQUENCY = float(os.environ.get("K3S_STANDIN_BOOKMARK_SECONDS") or 2.0)
BOOKMARK_BEFORE_DEADLINE = 2.0


def next_bookmark(now, deadline, frequency=BOOKMARK_FREQUENCY):
    """When the next BOOKMARK is due (monotonic seconds), or None when none is left before the deadline."""
    due = min(now + frequency, deadline - BOOKMARK_BEFORE_DEADLINE)
    return None if due < now else due


class WatchHub:
    def __init__(self, floor):
        self.cond = threading.Condition()
        self.events = collections.deque()   # (rv, rkey, ns, type, obj, old_obj)
        self.floor = floor                  # every event with rv > floor is in self.events

    def publish(self, rv, rkey, ns, typ, obj, old=None):
        with self.cond:
            self.events.append((rv, rkey, ns, typ, obj, old))
            while len(self.events) > WATCH_HISTORY:
                self.floor = self.events.popleft()[0]
            self.cond.notify_all()

    def since(self, rv, wait=0.0):
        """events after rv, or None if rv is older than the history. Waits up to `wait` s for one."""
        with self.cond:
            if rv < self.floor:
                return None
            if wait > 0 and not (self.events and self.events[-1][0] > rv):
                self.cond.wait(wait)
                if rv < self.floor:
                    return None
            return [e for e in self.events if e[0] > rv]

    def last_rv(self):
        with self.cond:
            return self.events[-1][0] if self.events else self.floor
