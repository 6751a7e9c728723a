"""The shared datastore: global revisions, optimistic concurrency across servers, bootstrap data, quorum."""
import os
import socket
import threading

import pytest

from standin.datastore import ClusterLock, Datastore, Quorum, Unavailable


class View:
    """A server's in-memory view as the stand-in keeps it: items + the counter, fed by ClusterLock."""

    def __init__(self, path, name, quorum=None):
        self.items, self.rv, self.events = {}, 1000, []
        self.lock = ClusterLock()
        self.ds = Datastore(path, name)
        self.lock.attach(self.ds, self.apply, quorum)

    def apply(self, rows):
        for rv, _store, _rkey, key, rec, server in rows:
            self.rv = max(self.rv, rv)
            if rec is None:
                self.items.pop(key, None)
            else:
                self.items[key] = rec
            self.events.append((rv, key, server))

    def update(self, key, value, want_rv=None):
        """a write with the API server's optimistic concurrency: a stale resourceVersion is a conflict"""
        with self.lock:
            cur = self.items.get(key)
            if want_rv is not None and cur is not None and cur["rv"] != want_rv:
                return 409
            self.rv += 1
            self.items[key] = {"value": value, "rv": self.rv}
            self.ds.append(self.rv, "objects", "coordination.k8s.io/leases", key, self.items[key])
            return 200

    def get(self, key):
        with self.lock:
            return self.items.get(key)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "state.db")


def test_writes_through_one_server_are_seen_by_another(db):
    a, b = View(db, "a"), View(db, "b")
    assert a.update("ns/x", 1) == 200
    assert b.get("ns/x") == {"value": 1, "rv": 1001}
    assert b.events == [(1001, "ns/x", "a")]


def test_resource_versions_are_global_across_servers(db):
    a, b = View(db, "a"), View(db, "b")
    a.update("ns/x", 1)
    b.update("ns/y", 2)
    a.update("ns/x", 3)
    assert [r[0] for r in Datastore(db, "c").rows_after(0)] == [1001, 1002, 1003]
    assert b.get("ns/x")["rv"] == 1003


def test_stale_resource_version_is_a_conflict_whichever_server_wrote_last(db):
    a, b = View(db, "a"), View(db, "b")
    a.update("ns/lease", "holder-a")
    seen = b.get("ns/lease")["rv"]
    assert a.update("ns/lease", "holder-a2", want_rv=seen) == 200
    assert b.update("ns/lease", "holder-b", want_rv=seen) == 409
    assert a.get("ns/lease")["value"] == "holder-a2"


def test_concurrent_writers_never_share_a_revision(db):
    views = [View(db, "s%d" % i) for i in range(3)]
    # each thread its own server: one sqlite connection per process in the stand-in
    threads = [threading.Thread(target=lambda v=v: [v.update("ns/k%d" % j, j) for j in range(20)]) for v in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rvs = [r[0] for r in Datastore(db, "x").rows_after(0)]
    assert rvs == list(range(1001, 1061))


def test_a_new_server_replays_the_log(db):
    a = View(db, "a")
    a.update("ns/x", 1)
    a.update("ns/x", 2)
    with a.lock:
        a.rv += 1
        a.items.pop("ns/x")
        a.ds.append(a.rv, "objects", "coordination.k8s.io/leases", "ns/x", None)
    a.update("ns/y", 3)
    c = View(db, "c")
    assert c.get("ns/x") is None and c.get("ns/y") == {"value": 3, "rv": 1004}


def test_no_quorum_refuses_before_touching_the_datastore(db):
    ok = [True]
    a = View(db, "a", quorum=lambda: ok[0])
    a.update("ns/x", 1)
    ok[0] = False
    with pytest.raises(Unavailable, match="etcdserver: request timed out"):
        a.update("ns/x", 2)
    ok[0] = True
    assert a.get("ns/x")["value"] == 1
    assert a.lock.depth == 0


def test_bootstrap_files_are_the_first_servers(tmp_path, db):
    d1, d2 = tmp_path / "one", tmp_path / "two"

    def gen(directory):
        def generate(replaced):
            for n in ("ca.crt", "service.key"):
                p = directory / n
                if not p.exists():
                    p.write_bytes(os.urandom(8))
        return generate
    assert Datastore(db, "one").sync_bootstrap(str(d1), ["ca.crt", "service.key"], gen(d1)) == []
    os.makedirs(d2)
    (d2 / "ca.crt").write_bytes(b"a different CA")
    taken = Datastore(db, "two").sync_bootstrap(str(d2), ["ca.crt", "service.key"], gen(d2))
    assert sorted(taken) == ["ca.crt", "service.key"]
    for n in ("ca.crt", "service.key"):
        assert (d1 / n).read_bytes() == (d2 / n).read_bytes()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def test_quorum_is_a_majority_of_members(db):
    port = free_port()
    q = Quorum(Datastore(db, "a"), "a", "127.0.0.1", port=port, timeout=0.2)
    q.listen()
    up = "127.0.0.1:%d" % port
    down = "127.0.0.1:%d" % free_port()
    assert q.check([("a", up)])[0]
    assert q.check([("a", up), ("b", up), ("c", down)])[0]
    ok, seen = q.check([("a", up), ("b", down), ("c", down)])
    assert not ok and seen == {"a": True, "b": False, "c": False}
    assert not q.check([("a", up), ("b", down)])[0]      # two members: both are needed, as with etcd


def test_members_are_kept_once_with_their_join_order(db):
    ds = Datastore(db, "a")
    ds.join("a", "10.0.0.1:2380")
    ds.join("b", "10.0.0.2:2380")
    ds.join("a", "10.0.0.9:2380")
    assert ds.members() == [("a", "10.0.0.9:2380"), ("b", "10.0.0.2:2380")]
