"""Each stand-in server's Node object (core/v1), as the K3s server's embedded kubelet registers it.

- Labels as K3s sets them on a server (k3s-io/k3s pkg/agent/... and docs.k3s.io/reference/server-config:
  servers carry `node-role.kubernetes.io/control-plane=true` and `node-role.kubernetes.io/master=true`, and with
  embedded etcd also `node-role.kubernetes.io/etcd=true`).
- The Ready condition (type Ready, reason KubeletReady, message "kubelet is posting ready status") reflects the
  server's own /readyz; `lastHeartbeatTime` is refreshed every heartbeat (kubelet's nodeStatusUpdateFrequency,
  10 s), `lastTransitionTime` only when the status changes (kubernetes.io/docs/reference/node/node-status).
- kube-controller-manager's node lifecycle controller sets Ready to Unknown ("NodeStatusUnknown", "Kubelet
  stopped posting node status.") for a node whose heartbeat is older than the grace period (40 s,
  --node-monitor-grace-period): `stale_update` below, applied by any server that can write.
"""

import datetime

HEARTBEAT_SECONDS = 10
GRACE_SECONDS = 40


def ts(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def ready_condition(node):
    for c in ((node or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c
    return None


def node_object(name, ip, version, ready, now, etcd=True, old=None):
    """The Node as its server writes it at `now` (epoch s); keeps lastTransitionTime when the status is unchanged."""
    status = "True" if ready else "False"
    prev = ready_condition(old)
    transition = prev["lastTransitionTime"] if prev and prev.get("status") == status else ts(now)
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true"}
    if etcd:
        labels["node-role.kubernetes.io/etcd"] = "true"
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {},
            "status": {
                "conditions": [{
                    "type": "Ready", "status": status,
                    "reason": "KubeletReady" if ready else "KubeletNotReady",
                    "message": "kubelet is posting ready status" if ready else "apiserver is not ready",
                    "lastHeartbeatTime": ts(now), "lastTransitionTime": transition}],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                             "architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.21-k3s2"}}}


def stale_update(node, now, grace=GRACE_SECONDS):
    """The node's status with Ready=Unknown if its heartbeat is older than `grace`, else None."""
    c = ready_condition(node)
    if c is None or c.get("status") == "Unknown":
        return None
    try:
        beat = parse_ts(c["lastHeartbeatTime"])
    except (KeyError, ValueError):
        return None
    if now - beat <= grace:
        return None
    st = dict(node.get("status") or {})
    st["conditions"] = [dict(x) for x in st.get("conditions") or []]
    for x in st["conditions"]:
        if x.get("type") == "Ready":
            x.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.",
                     lastTransitionTime=ts(now))
    return st
