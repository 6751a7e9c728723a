"""Objects as leaf fields: managed fields (FieldsV1) for server-side apply, and simple JSONPaths."""

import json

SYSTEM_META = ("name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
               "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")


def fields_v1(paths, dot):
    root = {}
    for p in paths:
        cur = root
        for i, seg in enumerate(p):
            cur = cur.setdefault(seg if seg.startswith("k:") else "f:" + seg, {})
            if dot and i < len(p) - 1:
                cur.setdefault(".", {})
    if dot and ("f:metadata" in root):
        root["f:metadata"].pop(".", None)
    return root


def fields_from_v1(fv, prefix=()):
    """FieldsV1 -> leaf paths (inverse of fields_v1 for maps; other key kinds are dropped)."""
    out = []
    kids = [(k, v) for k, v in (fv or {}).items() if k.startswith("f:")]
    if not kids:
        return [prefix] if prefix else []
    for k, v in kids:
        out.extend(fields_from_v1(v, prefix + (k[2:],)))
    return out


def obj_leaves(o, part):
    """object -> {path tuple: value}. part: "main" (everything users write, without status),
    "all" (main + status), "status" (status only). Lists and empty maps are leaves."""
    out = {}

    def walk(prefix, v):
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(prefix + (k,), x)
        else:
            out[prefix] = v
    for k, v in o.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "metadata":
            for mk, mv in (v or {}).items():
                if mk in SYSTEM_META or mk == "generateName" or mv in ({}, [], None):
                    continue
                walk(("metadata", mk), mv)
            continue
        if k == "status" and part == "main":
            continue
        if k != "status" and part == "status":
            continue
        walk((k,), v)
    return out


def obj_from_leaves(leaves):
    o = {}
    for p, v in sorted(leaves.items(), key=lambda kv: [str(x) for x in kv[0]]):
        cur = o
        for seg in p[:-1]:
            nxt = cur.get(seg)
            if not isinstance(nxt, dict):
                nxt = cur[seg] = {}
            cur = nxt
        cur[p[-1]] = json.loads(json.dumps(v))
    return o


def _spec_part(o):
    return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _jsonpath(o, path):
    cur = o
    for seg in [s for s in path.strip().lstrip(".").split(".") if s]:
        if not isinstance(cur, dict):
            return None
        field, _, cond = seg.partition("[")
        cur = cur.get(field)
        if cond:        # conditions[Ready]: that condition's status
            cur = next((c.get("status") for c in cur or [] if isinstance(c, dict) and c.get("type") == cond[:-1]), None)
    return cur
