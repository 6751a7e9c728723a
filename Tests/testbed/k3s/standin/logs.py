"""Log lines in K3s' logrus text format (time="…" level=… msg="…"), on stderr (the journal)."""

import datetime
import sys




def log(level, msg):
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    esc = msg.replace("\\", "\\\\").replace('"', '\\"')
    sys.stderr.write('time="%s" level=%s msg="%s"\n' % (ts, level, esc))
    sys.stderr.flush()


def fatal(msg, code=1):
    log("fatal", msg)
    sys.exit(code)
