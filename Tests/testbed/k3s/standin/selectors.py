"""Label and field selectors (k8s.io/apimachinery pkg/labels, pkg/fields semantics)."""

import re

from .errors import APIError
from .fields import _jsonpath

LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
LABEL_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def parse_selector(sel):
    """label selector -> list of (key, op, values); raises APIError 400."""
    reqs, parts, depth, cur = [], [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        if not p:
            continue
        m = re.fullmatch(r"(\S+?)\s+(in|notin)\s+\(([^()]*)\)", p)
        if m:
            reqs.append((m.group(1), m.group(2), [v.strip() for v in m.group(3).split(",") if v.strip()]))
            continue
        m = re.fullmatch(r"([^=!\s]+)\s*(==|!=|=)\s*(\S*)", p)
        if m:
            reqs.append((m.group(1), {"==": "=", "=": "=", "!=": "!="}[m.group(2)], [m.group(3)]))
            continue
        m = re.fullmatch(r"(!?)\s*([^=!\s()]+)", p)
        if m:
            reqs.append((m.group(2), "!exists" if m.group(1) else "exists", []))
            continue
        raise APIError(400, "BadRequest", 'unable to parse requirement: found "%s", expected: identifier' % p)
    for k, _op, vals in reqs:
        if not LABEL_NAME.fullmatch(k) or any(not LABEL_VALUE.fullmatch(v) for v in vals):
            raise APIError(400, "BadRequest", "unable to parse requirement: invalid label key or value: %r" % k)
    return reqs


def selector_matches(reqs, labels):
    for k, op, vals in reqs:
        has = k in labels
        v = labels.get(k)
        if (op == "exists" and not has) or (op == "!exists" and has) or \
           (op in ("=", "in") and (not has or v not in vals)) or (op in ("!=", "notin") and has and v in vals):
            return False
    return True


def parse_field_selector(sel):
    out = []
    for p in sel.split(","):
        if not p.strip():
            continue
        m = re.fullmatch(r"\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*", p)
        if not m or m.group(1) not in ("metadata.name", "metadata.namespace", "type", "involvedObject.name",
                                       "involvedObject.namespace", "involvedObject.kind", "involvedObject.uid"):
            raise APIError(400, "BadRequest", '"%s" is not a known field selector: only "metadata.name", '
                           '"metadata.namespace"' % p.split("=")[0].strip("!"))
        out.append(m.groups())
    return out


def object_matches(o, reqs, fsel):
    if not selector_matches(reqs, o["metadata"].get("labels") or {}):
        return False
    for f, op, v in fsel:
        have = _jsonpath(o, f)
        if f == "metadata.namespace" and have is None:
            have = ""
        if (have == v) != (op != "!="):
            return False
    return True
