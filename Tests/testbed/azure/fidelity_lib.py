"""TAP-like check helpers shared by the in-container fidelity scripts (fidelity_sdk.py, fidelity_arm.py)."""
import json
import traceback
import urllib.request

COUNTS = {"n": 0, "failed": 0}


def check(desc, fn):
    COUNTS["n"] += 1
    try:
        r = fn()
        if r is False:
            raise AssertionError("returned False")
        print("ok %d - %s" % (COUNTS["n"], desc), flush=True)
    except Exception as e:  # noqa: BLE001
        COUNTS["failed"] += 1
        print("not ok %d - %s" % (COUNTS["n"], desc), flush=True)
        for line in ("%s: %s" % (type(e).__name__, e)).splitlines()[:12]:
            print("#   " + line)
        for line in traceback.format_exc().splitlines()[-6:]:
            print("#   " + line)


def expect_raises(exc, fn, *needles):
    try:
        fn()
    except exc as e:
        msg = str(e) + " " + str(getattr(e, "message", ""))
        for nd in needles:
            assert nd in msg, "%r not in %s" % (nd, msg[:600])
        return e
    raise AssertionError("no %s raised" % exc.__name__)


def admin(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def summary():
    """Prints the totals; the exit status for the script."""
    print("# %d checks, %d failed" % (COUNTS["n"], COUNTS["failed"]))
    return 1 if COUNTS["failed"] else 0
