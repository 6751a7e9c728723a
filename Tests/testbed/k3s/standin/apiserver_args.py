"""kube-apiserver's arguments as K3s computes them (defaults + kube-apiserver-arg, util.GetArgs) and
kube-apiserver's own flag validation (see ../README.md "kube-apiserver args", "Validation")."""

import os
import re
import urllib.parse

import yaml  # python3-yaml (the host's /usr is the container's)


# ---------------------------------------------------------------- apiserver args

KUBE_APISERVER_FLAGS = set("""
admission-control admission-control-config-file advertise-address aggregator-reject-forwarding-redirect
allow-metric-labels allow-metric-labels-manifest allow-privileged anonymous-auth api-audiences apiserver-count
audit-log-batch-buffer-size audit-log-batch-max-size audit-log-batch-max-wait audit-log-batch-throttle-burst
audit-log-batch-throttle-enable audit-log-batch-throttle-qps audit-log-compress audit-log-format audit-log-maxage
audit-log-maxbackup audit-log-maxsize audit-log-mode audit-log-path audit-log-truncate-enabled
audit-log-truncate-max-batch-size audit-log-truncate-max-event-size audit-log-version audit-policy-file
audit-webhook-batch-buffer-size audit-webhook-batch-initial-backoff audit-webhook-batch-max-size
audit-webhook-batch-max-wait audit-webhook-batch-throttle-burst audit-webhook-batch-throttle-enable
audit-webhook-batch-throttle-qps audit-webhook-config-file audit-webhook-initial-backoff audit-webhook-mode
audit-webhook-truncate-enabled audit-webhook-truncate-max-batch-size audit-webhook-truncate-max-event-size
audit-webhook-version authentication-config authentication-token-webhook-cache-ttl
authentication-token-webhook-config-file authentication-token-webhook-version authorization-config
authorization-mode authorization-policy-file authorization-webhook-cache-authorized-ttl
authorization-webhook-cache-unauthorized-ttl authorization-webhook-config-file authorization-webhook-version
bind-address cert-dir client-ca-file cloud-config cloud-provider cloud-provider-gce-l7lb-src-cidrs
cloud-provider-gce-lb-src-cidrs contention-profiling cors-allowed-origins debug-socket-path
default-not-ready-toleration-seconds default-unreachable-toleration-seconds default-watch-cache-size
delete-collection-workers disable-admission-plugins disable-http2-serving disabled-metrics
egress-selector-config-file emulated-version enable-admission-plugins enable-aggregator-routing
enable-bootstrap-token-auth enable-garbage-collector enable-logs-handler enable-priority-and-fairness
encryption-provider-config encryption-provider-config-automatic-reload endpoint-reconciler-type etcd-cafile
etcd-certfile etcd-compaction-interval etcd-count-metric-poll-period etcd-db-metric-poll-interval
etcd-healthcheck-timeout etcd-keyfile etcd-prefix etcd-readycheck-timeout etcd-servers etcd-servers-overrides
event-ttl external-hostname feature-gates goaway-chance help http2-max-streams-per-connection
kubelet-certificate-authority kubelet-client-certificate kubelet-client-key kubelet-preferred-address-types
kubelet-timeout kubernetes-service-node-port lease-reuse-duration-seconds livez-grace-period
log-flush-frequency log-json-info-buffer-size log-json-split-stream log-text-info-buffer-size
log-text-split-stream logging-format master-service-namespace max-connection-bytes-per-sec
max-mutating-requests-inflight max-requests-inflight min-request-timeout oidc-ca-file oidc-client-id
oidc-groups-claim oidc-groups-prefix oidc-issuer-url oidc-required-claim oidc-signing-algs
oidc-username-claim oidc-username-prefix peer-advertise-ip peer-advertise-port peer-ca-file
permit-address-sharing permit-port-sharing profiling proxy-client-cert-file proxy-client-key-file
request-timeout requestheader-allowed-names requestheader-client-ca-file requestheader-extra-headers-prefix
requestheader-group-headers requestheader-username-headers runtime-config secure-port
service-account-extend-token-expiration service-account-issuer service-account-jwks-uri
service-account-key-file service-account-lookup service-account-max-token-expiration
service-account-signing-key-file service-cluster-ip-range service-node-port-range
show-hidden-metrics-for-version shutdown-delay-duration shutdown-send-retry-after
shutdown-watch-termination-grace-period storage-backend storage-initialization-timeout storage-media-type
strict-transport-security-directives tls-cert-file tls-cipher-suites tls-min-version tls-private-key-file
tls-sni-cert-key token-auth-file tracing-config-file v version vmodule watch-cache watch-cache-sizes
""".split())

BOOL_FLAGS = set("""
allow-privileged anonymous-auth audit-log-compress audit-log-batch-throttle-enable audit-log-truncate-enabled
audit-webhook-batch-throttle-enable audit-webhook-truncate-enabled contention-profiling
disable-http2-serving enable-aggregator-routing enable-bootstrap-token-auth enable-garbage-collector
enable-logs-handler enable-priority-and-fairness encryption-provider-config-automatic-reload help
log-json-split-stream log-text-split-stream permit-address-sharing permit-port-sharing profiling
service-account-extend-token-expiration service-account-lookup watch-cache
""".split())

DURATION_FLAGS = set("""
service-account-max-token-expiration audit-log-batch-max-wait audit-webhook-batch-max-wait
audit-webhook-initial-backoff audit-webhook-batch-initial-backoff authentication-token-webhook-cache-ttl
authorization-webhook-cache-authorized-ttl authorization-webhook-cache-unauthorized-ttl
etcd-compaction-interval etcd-count-metric-poll-period etcd-db-metric-poll-interval etcd-healthcheck-timeout
etcd-readycheck-timeout event-ttl kubelet-timeout livez-grace-period log-flush-frequency request-timeout
shutdown-delay-duration shutdown-send-retry-after storage-initialization-timeout
""".split())

INT_FLAGS = set("""
audit-log-maxage audit-log-maxbackup audit-log-maxsize secure-port v max-requests-inflight
max-mutating-requests-inflight min-request-timeout apiserver-count delete-collection-workers
default-watch-cache-size kubernetes-service-node-port lease-reuse-duration-seconds
default-not-ready-toleration-seconds default-unreachable-toleration-seconds
""".split())

_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_go_duration(s):
    """Go time.ParseDuration; returns seconds (float) or raises ValueError."""
    orig = s
    if s in ("0", "+0", "-0"):
        return 0.0
    if s == "":
        raise ValueError('time: invalid duration ""')
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "":
        raise ValueError('time: invalid duration "%s"' % orig)
    total = 0.0
    pos = 0
    for m in re.finditer(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)?", s):
        if m.start() != pos:
            raise ValueError('time: invalid duration "%s"' % orig)
        if m.group(2) is None:
            raise ValueError('time: missing unit in duration "%s"' % orig)
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError('time: invalid duration "%s"' % orig)
    return sign * total


def go_duration_str(seconds):
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h:
        return "%dh%dm%ds" % (h, m, s)
    if m:
        return "%dm%ds" % (m, s)
    return "%ds" % s


def default_apiserver_args(data_dir, cluster_domain, port, advertise):
    tls = os.path.join(data_dir, "server", "tls")
    return {
        "advertise-address": advertise,
        "advertise-port": str(port),
        "allow-privileged": "true",
        "anonymous-auth": "false",
        "api-audiences": "https://kubernetes.default.svc.%s,k3s" % cluster_domain,
        "authorization-mode": "Node,RBAC",
        "bind-address": "127.0.0.1",
        "cert-dir": os.path.join(tls, "temporary-certs"),
        "client-ca-file": os.path.join(tls, "client-ca.crt"),
        "egress-selector-config-file": os.path.join(data_dir, "server", "etc", "egress-selector-config.yaml"),
        "enable-admission-plugins": "NodeRestriction",
        "enable-aggregator-routing": "true",
        "enable-bootstrap-token-auth": "true",
        "etcd-servers": "unix://kine.sock",
        "kubelet-certificate-authority": os.path.join(tls, "server-ca.crt"),
        "kubelet-client-certificate": os.path.join(tls, "client-kube-apiserver.crt"),
        "kubelet-client-key": os.path.join(tls, "client-kube-apiserver.key"),
        "profiling": "false",
        "proxy-client-cert-file": os.path.join(tls, "client-auth-proxy.crt"),
        "proxy-client-key-file": os.path.join(tls, "client-auth-proxy.key"),
        "requestheader-allowed-names": "system:auth-proxy",
        "requestheader-client-ca-file": os.path.join(tls, "request-header-ca.crt"),
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": str(port + 1),
        "service-account-issuer": "https://kubernetes.default.svc.%s" % cluster_domain,
        "service-account-key-file": os.path.join(tls, "service.key"),
        "service-account-signing-key-file": os.path.join(tls, "service.current.key"),
        "service-cluster-ip-range": "10.43.0.0/16",
        "service-node-port-range": "30000-32767",
        "storage-backend": "etcd3",
        "tls-cert-file": os.path.join(tls, "serving-kube-apiserver.crt"),
        "tls-cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
                             "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
                             "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "tls-private-key-file": os.path.join(tls, "serving-kube-apiserver.key"),
    }


def get_args(initial, extra):
    """K3s pkg/daemons/util.GetArgs. Returns list of (name, value), sorted by
    name, repeated values in order."""
    initial = dict(initial)
    multi = {}
    for un in extra:
        s = un[2:] if un.startswith("--") else un
        if "=" in s:
            arg, value = s.split("=", 1)
        else:
            arg, value = s, "true"
        if arg.endswith("+"):
            arg = arg[:-1]
            if arg in initial:
                multi.setdefault(arg, []).append(initial[arg])
            multi.setdefault(arg, []).append(value)
        elif arg.endswith("-"):
            arg = arg[:-1]
            multi.setdefault(arg, []).append(value)
            if arg in initial:
                multi[arg].append(initial[arg])
        else:
            multi.setdefault(arg, []).append(value)
        initial.pop(arg, None)
    out = [(k, v) for k, v in initial.items()]
    for k, vs in multi.items():
        out.extend((k, v) for v in vs)
    out.sort(key=lambda kv: kv[0])   # stable: repeated values keep order
    return out


def validate_apiserver_args(args):
    """Mimics the kube-apiserver's flag parsing and option validation.
    Returns a list of error strings (first is fatal, like cobra/pflag)."""
    for name, value in args:
        if name == "advertise-port":
            continue  # K3s-internal, stripped before the apiserver sees it
        if name not in KUBE_APISERVER_FLAGS:
            return ["unknown flag: --%s" % name]
        if name in BOOL_FLAGS and value.lower() not in ("1", "t", "true", "0", "f", "false"):
            return ['invalid argument "%s" for "--%s" flag: strconv.ParseBool: parsing "%s": invalid syntax'
                    % (value, name, value)]
        if name in DURATION_FLAGS:
            try:
                parse_go_duration(value)
            except ValueError as e:
                return ['invalid argument "%s" for "--%s" flag: %s' % (value, name, e)]
        if name in INT_FLAGS and not re.fullmatch(r"[+-]?\d+", value):
            return ['invalid argument "%s" for "--%s" flag: strconv.ParseInt: parsing "%s": invalid syntax'
                    % (value, name, value)]
    errs = []
    issuers = [v for k, v in args if k == "service-account-issuer"]
    seen = set()
    for iss in issuers:
        if ":" in iss:
            try:
                urllib.parse.urlsplit(iss)
                if re.search(r"[\x00-\x20\x7f]", iss):
                    raise ValueError("invalid control character in URL")
            except ValueError as e:
                errs.append('service-account-issuer "%s" contained a \':\' but was not a valid URL: %s' % (iss, e))
                continue
        if iss == "":
            errs.append("service-account-issuer should not be an empty string")
            continue
        if iss in seen:
            errs.append('service-account-issuer "%s" is already specified' % iss)
            continue
        seen.add(iss)
    for k, v in args:
        if k == "service-account-max-token-expiration":
            d = parse_go_duration(v)
            if d != 0 and d < 3600:
                errs.append("service-account-max-token-expiration %s should not be less than 1h0m0s"
                            % go_duration_str(d))
    for k, v in args:
        if k == "audit-policy-file":
            err = audit_policy_error(v)
            if err:
                errs.append(err)
    return errs


def audit_policy_error(path):
    """kube-apiserver loads --audit-policy-file at start and exits if it cannot (k8s.io/apiserver
    pkg/server/options/audit.go "loading audit policy file: %v"; pkg/audit/policy/reader.go LoadPolicyFromFile:
    "failed to read file path %q: %+v", "failed decoding: %v", "%v: from file %v"). Decoded as a Policy of
    audit.k8s.io/v1; its rules are not validated."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return 'loading audit policy file: failed to read file path "%s": open %s: %s' % (
            path, path, (e.strerror or "error").lower())
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as e:
        return "loading audit policy file: failed decoding: %s: from file %s" % (str(e).splitlines()[0], path)
    if not isinstance(doc, dict) or doc.get("apiVersion") != "audit.k8s.io/v1" or doc.get("kind") != "Policy":
        return ("loading audit policy file: failed decoding: unknown or missing apiVersion/kind (want audit.k8s.io/v1 "
                "Policy): from file %s" % path)
    return None
