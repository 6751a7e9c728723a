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
    k3s.service loses nothing. A kill -9 may lose the last 0.2 s of writes (real K3s' datastore would not)."""

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
        while True:
            with self.cv:
                while not self.dirty:
                    self.cv.wait()
            time.sleep(0.2)
            self.flush()

    def flush(self):
        with self.cv:
            stores, self.dirty = self.dirty, set()
        for store in stores:
            with getattr(store.lock, "local", store.lock):     # this server's files only: no datastore round
                store.flush()


WRITE_BEHIND = WriteBehind()
