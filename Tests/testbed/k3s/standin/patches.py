"""JSON merge patch (RFC 7386), JSON patch (RFC 6902), and the strategic-merge-patch subset the stand-in takes."""

import json

from .errors import APIError


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(doc, ops):
    """RFC 6902 (add, remove, replace, move, copy, test); raises APIError."""
    def bad(msg):
        return APIError(422, "Invalid", msg) if "test" in msg else APIError(500, "InternalError", msg)

    def walk(path):
        if path == "":
            return None, None
        toks = [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]
        cur = doc
        for t in toks[:-1]:
            if isinstance(cur, list):
                try:
                    cur = cur[int(t)]
                except (ValueError, IndexError):
                    raise bad("jsonpatch: unable to find path %s" % path)
            elif isinstance(cur, dict) and t in cur:
                cur = cur[t]
            else:
                raise bad("doc is missing path: \"%s\": missing value" % path)
        return cur, toks[-1]

    def get(path):
        par, k = walk(path)
        if par is None:
            return doc
        try:
            return par[int(k)] if isinstance(par, list) else par[k]
        except (KeyError, ValueError, IndexError):
            raise bad("doc is missing path: \"%s\": missing value" % path)

    def put(path, v, replace):
        par, k = walk(path)
        if isinstance(par, list):
            if k == "-":
                par.append(v)
            elif replace:
                par[int(k)] = v
            else:
                par.insert(int(k), v)
        elif isinstance(par, dict):
            if replace and k not in par:
                raise bad("replace operation does not apply: doc is missing key: %s" % path)
            par[k] = v
        else:
            raise bad("doc is missing path: \"%s\": missing value" % path)

    def remove(path):
        par, k = walk(path)
        try:
            return par.pop(int(k)) if isinstance(par, list) else par.pop(k)
        except (KeyError, ValueError, IndexError, AttributeError):
            raise bad("unable to remove nonexistent key: %s: missing value" % k)
    if not isinstance(ops, list):
        raise APIError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    for op in ops:
        o, path = op.get("op"), op.get("path", "")
        if o == "add":
            put(path, json.loads(json.dumps(op.get("value"))), False)
        elif o == "replace":
            put(path, json.loads(json.dumps(op.get("value"))), True)
        elif o == "remove":
            remove(path)
        elif o == "move":
            put(path, remove(op.get("from", "")), False)
        elif o == "copy":
            put(path, json.loads(json.dumps(get(op.get("from", "")))), False)
        elif o == "test":
            if get(path) != op.get("value"):
                raise APIError(422, "Invalid", "the server rejected our request due to an error in our request")
        else:
            raise APIError(500, "InternalError", "Unexpected kind: %s" % o)
    return doc


def _strip_smp(v):
    """drops strategic-merge-patch directives ($setElementOrder/..., $patch, $retainKeys)."""
    if isinstance(v, dict):
        return {k: _strip_smp(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip_smp(x) for x in v if not (isinstance(x, dict) and "$patch" in x)]
    return v
