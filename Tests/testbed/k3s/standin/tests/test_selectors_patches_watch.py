"""Selectors, patches and the watch history (see ../README.md for the API server behaviours they follow)."""
import pytest

from standin.errors import APIError
from standin.patches import json_patch, merge_patch
from standin.selectors import object_matches, parse_field_selector, parse_selector, selector_matches
from standin.watch import BOOKMARK_FREQUENCY, REAL_BOOKMARK_FREQUENCY, WATCH_HISTORY, WatchHub, next_bookmark


@pytest.mark.parametrize("sel,labels,want", [
    ("app=x", {"app": "x"}, True),
    ("app==x", {"app": "y"}, False),
    ("app!=x", {}, True),
    ("app", {"app": ""}, True),
    ("!app", {"app": "x"}, False),
    ("env in (a, b),tier notin (db)", {"env": "b", "tier": "web"}, True),
    ("env in (a,b)", {"env": "c"}, False),
    ("tier notin (db)", {}, True),
])
def test_label_selectors(sel, labels, want):
    assert selector_matches(parse_selector(sel), labels) is want


def test_a_bad_selector_is_a_400():
    with pytest.raises(APIError) as e:
        parse_selector("a=b=c")
    assert e.value.code == 400


def test_field_selectors_on_name_and_namespace():
    o = {"metadata": {"name": "n", "namespace": "ns"}}
    assert object_matches(o, [], parse_field_selector("metadata.name=n,metadata.namespace!=other"))
    assert not object_matches(o, [], parse_field_selector("metadata.name==m"))


def test_merge_patch_is_rfc7386():
    assert merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}, "f": [1]}) == \
        {"a": 1, "b": {"d": 3, "e": 4}, "f": [1]}


def test_json_patch_ops_and_a_failed_test_op():
    doc = {"spec": {"a": 1, "l": [1, 2]}}
    out = json_patch(doc, [{"op": "add", "path": "/spec/l/-", "value": 3},
                           {"op": "replace", "path": "/spec/a", "value": 2},
                           {"op": "copy", "from": "/spec/a", "path": "/spec/b"},
                           {"op": "remove", "path": "/spec/l/0"},
                           {"op": "test", "path": "/spec/b", "value": 2}])
    assert out == {"spec": {"a": 2, "b": 2, "l": [2, 3]}}
    with pytest.raises(APIError):
        json_patch(doc, [{"op": "test", "path": "/spec/a", "value": 99}])


def test_watch_history_replays_after_a_resource_version_and_expires_old_ones():
    hub = WatchHub(1000)
    for rv in range(1001, 1004):
        hub.publish(rv, "/secrets", "ns", "ADDED", {"rv": rv})
    assert [e[0] for e in hub.since(1001)] == [1002, 1003]
    for rv in range(1004, 1004 + WATCH_HISTORY):
        hub.publish(rv, "/secrets", "ns", "MODIFIED", {})
    assert hub.since(1001) is None          # older than the history: 410 Expired
    assert hub.last_rv() == 1003 + WATCH_HISTORY


def test_bookmarks_come_every_minute_and_two_seconds_before_the_deadline():
    # kube-apiserver cache_watcher.go nextBookmarkTime: (b) roughly every minute, (a) 2 s before the deadline.
    assert REAL_BOOKMARK_FREQUENCY == 60.0
    assert next_bookmark(100.0, 100.0 + 300, REAL_BOOKMARK_FREQUENCY) == 160.0   # a 5-minute watch: after a minute
    assert next_bookmark(100.0, 100.0 + 300) == 100.0 + BOOKMARK_FREQUENCY
    assert next_bookmark(100.0, 100.0 + 4, 60.0) == 102.0  # timeoutSeconds=4: 2 s before the deadline
    assert next_bookmark(398.5, 400.0, 60.0) is None             # past the pre-deadline one: no more
