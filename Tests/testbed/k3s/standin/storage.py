"""Writing the stand-in's state files: atomically (temp file, fsync, rename) and write-behind."""

import os
import threading
import time




def _write(path, data, mode=0o600):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class WriteBehind:
    """Persists the object stores at most every 0.2 s instead of on every write (a whole-file rewrite and
    fsync per write made 1,000 writes cost O(n^2)), and at once on SIGTERM, so a clean restart of
    k3s.service loses nothing. A rewrite costs time in proportion to the store (0.5 s of CPU for 20,000
    Secrets, with the store's lock held), so the pause after one is at least 9 times its duration: rewrites
    take at most a tenth of the time however large the store grows, instead of most of a core (the sync
    bench's stand-in spent ~40 s of CPU on 10,000 writes). A kill -9 may lose the writes of that pause
    (0.2 s with a small store; real K3s' datastore would lose none)."""

    MIN_PAUSE = 0.2
    PAUSE_PER_REWRITE = 9

    def __init__(self):
        self.cv = threading.Condition()
        self.dirty = set()
        self.thread = None

    def mark(self, store):
        with self.cv:
            self.dirty.add(store)
            if self.thread is None:
                self.thread = threading.Thread(target=self.run, daemon=True)
                self.thread.start()
            self.cv.notify()

    def run(self):
        pause = self.MIN_PAUSE
        while True:
            with self.cv:
                while not self.dirty:
                    self.cv.wait()
            time.sleep(pause)
            started = time.monotonic()
            self.flush()
            pause = max(self.MIN_PAUSE, self.PAUSE_PER_REWRITE * (time.monotonic() - started))

    def flush(self):
        with self.cv:
            stores, self.dirty = self.dirty, set()
        for store in stores:
            with getattr(store.lock, "local", store.lock):     # this server's files only: no datastore round
                store.flush()


WRITE_BEHIND = WriteBehind()
