"""The shared datastore of several stand-in servers (K3s HA).

Real K3s HA servers share one datastore (embedded etcd, or an external SQL database through kine) that
holds every object, one global revision counter (the resourceVersion), and the cluster's bootstrap data
(CA certificates and keys, the service-account signing key: docs.k3s.io/datastore/ha-embedded,
docs.k3s.io/datastore/ha; k3s-io/k3s pkg/bootstrap). The stand-in keeps that model with one SQLite file on a
directory all servers mount (a bind mount shared by the testbed's containers; SQLite's file locking works
across processes, containers included, on one host):

- `log`: one row per write (rv INTEGER PRIMARY KEY = the resourceVersion, the store, the resource, the
  key, the full stored record as JSON or NULL for a deletion, the writing server). Like etcd's revision
  history (and kine's table), a row is appended under the datastore's write lock, so revisions are global
  and gapless across servers. Each server applies the rows it has not seen to its in-memory view and turns
  them into watch events: a watch on any server sees writes made through any other.
- `members`: the servers (name, peer address), as etcd's member list.
- `bootstrap`: the shared TLS and service-account key files.

Every API operation of a server runs under `ClusterLock`: the datastore's write lock (SQLite
`BEGIN IMMEDIATE`), catch-up on other servers' rows, the operation against the now current view (so a
stale resourceVersion is a 409 whichever server wrote last), its rows appended, `COMMIT`.
"""

import fcntl
import json
import os
import socket
import sqlite3
import threading
import time

from .storage import _write as write_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (rv INTEGER PRIMARY KEY, store TEXT NOT NULL, rkey TEXT NOT NULL,
    key TEXT NOT NULL, rec TEXT, server TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (name TEXT PRIMARY KEY, peer TEXT NOT NULL, joined REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bootstrap (name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


class Unavailable(Exception):
    """The datastore cannot be used by this server (no quorum): the API server's requests fail, like
    kube-apiserver's against an etcd that lost quorum ("etcdserver: request timed out")."""


class Datastore:
    def __init__(self, path, server, base_rv=1000):
        self.path = path
        self.server = server
        self.base_rv = base_rv
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        # one connection per server process, used under ClusterLock's thread lock only
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.executescript(SCHEMA)
        self.pending = []
        self.applied = 0        # the last rv this server's view has applied

    # -- transactions (called under ClusterLock's thread lock)
    def begin(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self):
        try:
            if self.pending:
                self.conn.executemany("INSERT INTO log (rv, store, rkey, key, rec, server, at) VALUES (?,?,?,?,?,?,?)",
                                      self.pending)
            self.conn.execute("COMMIT")
        finally:
            self.pending = []

    def rollback(self):
        self.pending = []
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass

    def rows_after(self, rv):
        """[(rv, store, rkey, key, rec or None, server)] written after rv, in order."""
        return [(r[0], r[1], r[2], r[3], None if r[4] is None else json.loads(r[4]), r[5])
                for r in self.conn.execute("SELECT rv, store, rkey, key, rec, server FROM log WHERE rv > ? "
                                           "ORDER BY rv", (rv,))]

    def max_rv(self):
        r = self.conn.execute("SELECT MAX(rv) FROM log").fetchone()[0]
        return self.base_rv if r is None else max(r, self.base_rv)

    def append(self, rv, store, rkey, key, rec):
        """a write at rv (rec None = deleted), stored at the next commit"""
        self.pending.append((rv, store, rkey, key, None if rec is None else json.dumps(rec, separators=(",", ":")),
                             self.server, time.time()))
        self.applied = max(self.applied, rv)

    # -- members (etcd's member list)
    def join(self, name, peer):
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO members (name, peer, joined) VALUES (?, ?, "
                              "COALESCE((SELECT joined FROM members WHERE name = ?), ?))", (name, peer, name, time.time()))

    def members(self):
        return [(r[0], r[1]) for r in self.conn.execute("SELECT name, peer FROM members ORDER BY joined, name")]

    # -- bootstrap data (K3s keeps the cluster CAs and the service-account key in the datastore)
    def sync_bootstrap(self, directory, names, generate):
        """Takes the cluster's copy of each file in `names` into `directory` (replacing a local one that
        differs), lets `generate()` create what is still missing (the first server), and publishes what the
        datastore does not have yet. Serialized across servers by a lock file next to the database.
        Returns the names taken from the cluster that replaced a different local file."""
        replaced = []
        with open(self.path + ".bootstrap.lock", "a") as lf:
            fcntl.flock(lf, fcntl.LOCK_EX)
            have = {r[0]: bytes(r[1]) for r in self.conn.execute("SELECT name, data FROM bootstrap")}
            os.makedirs(directory, mode=0o700, exist_ok=True)
            for n in names:
                if n not in have:
                    continue
                p = os.path.join(directory, n)
                try:
                    with open(p, "rb") as f:
                        if f.read() == have[n]:
                            continue
                except OSError:
                    pass
                write_file(p, have[n], 0o644 if n.endswith(".crt") else 0o600)
                replaced.append(n)
            generate(replaced)
            with self.conn:
                for n in names:
                    p = os.path.join(directory, n)
                    if n not in have and os.path.exists(p):
                        with open(p, "rb") as f:
                            self.conn.execute("INSERT OR IGNORE INTO bootstrap (name, data) VALUES (?, ?)",
                                              (n, f.read()))
        return replaced


class ClusterLock:
    """The lock of one server's in-memory view. Reentrant. Without a datastore it is a plain RLock (one
    server: nothing changes). With one, the outermost acquire also takes the datastore's write lock, refuses
    when there is no quorum, and applies the rows other servers wrote (`apply(rows)`); the outermost release
    appends this server's rows and commits."""

    def __init__(self):
        self.local = threading.RLock()
        self.depth = 0
        self.ds = None
        self.apply = None
        self.quorum = None      # callable -> bool

    def attach(self, ds, apply, quorum):
        self.ds, self.apply, self.quorum = ds, apply, quorum

    def acquire(self):
        self.local.acquire()
        if self.ds is not None and self.depth == 0:
            try:
                if self.quorum is not None and not self.quorum():
                    raise Unavailable("etcdserver: request timed out")
                self.ds.begin()
                try:
                    rows = self.ds.rows_after(self.ds.applied)
                    if rows:
                        self.apply(rows)
                        self.ds.applied = rows[-1][0]
                except BaseException:
                    self.ds.rollback()
                    raise
            except BaseException:
                self.local.release()
                raise
        self.depth += 1
        return True

    def release(self):
        self.depth -= 1
        try:
            if self.ds is not None and self.depth == 0:
                self.ds.commit()
        finally:
            self.local.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


class Quorum:
    """Embedded etcd's rule: a server may use the datastore only while it reaches a majority of the members
    (itself included). Each server listens on its etcd peer port (2380) and probes the others' every
    `interval` s; a server cut off the network loses quorum, the others keep it (docs.k3s.io/datastore/ha-embedded:
    an odd number of servers, quorum = (n/2)+1)."""

    def __init__(self, ds, name, peer_host, port=2380, interval=0.5, timeout=0.4):
        self.ds, self.name, self.peer_host, self.port = ds, name, peer_host, port
        self.interval, self.timeout = interval, timeout
        self.ok = True
        self.reachable = {}
        self.lock = threading.Lock()

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.peer_host, self.port))
        s.listen(16)

        def serve():
            while True:
                try:
                    c, _ = s.accept()
                    c.close()
                except OSError:
                    time.sleep(0.1)
        threading.Thread(target=serve, daemon=True).start()

    def probe(self, peer):
        host, _, port = peer.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=self.timeout):
                return True
        except OSError:
            return False

    def check(self, members):
        """members: [(name, "host:port")] -> (has quorum, {name: reachable})"""
        seen = {n: (n == self.name or self.probe(p)) for n, p in members}
        if self.name not in seen:
            seen[self.name] = True
        return sum(seen.values()) * 2 > len(seen), seen

    def run(self, members_fn):
        while True:
            try:
                ok, seen = self.check(members_fn())
            except Exception:       # the stand-in keeps serving; the next round decides
                ok, seen = self.ok, self.reachable
            with self.lock:
                self.ok, self.reachable = ok, seen
            time.sleep(self.interval)

    def __call__(self):
        with self.lock:
            return self.ok
