from standin import nodes


def test_a_server_node_has_the_control_plane_roles_and_its_address():
    n = nodes.node_object("hat-1", "10.213.0.11", "v1.31.1+k3s1", True, 1000000000)
    labels = n["metadata"]["labels"]
    assert labels["node-role.kubernetes.io/control-plane"] == "true"
    assert labels["node-role.kubernetes.io/etcd"] == "true"
    assert {"type": "InternalIP", "address": "10.213.0.11"} in n["status"]["addresses"]
    c = nodes.ready_condition(n)
    assert (c["status"], c["reason"]) == ("True", "KubeletReady")


def test_heartbeat_keeps_the_transition_time_while_the_status_holds():
    first = nodes.node_object("n", "ip", "v", True, 1000000000)
    later = nodes.node_object("n", "ip", "v", True, 1000000010, old=first)
    c = nodes.ready_condition(later)
    assert c["lastTransitionTime"] == nodes.ts(1000000000) and c["lastHeartbeatTime"] == nodes.ts(1000000010)
    down = nodes.node_object("n", "ip", "v", False, 1000000020, old=later)
    assert nodes.ready_condition(down)["lastTransitionTime"] == nodes.ts(1000000020)


def test_a_node_without_heartbeat_for_the_grace_period_becomes_unknown():
    n = nodes.node_object("n", "ip", "v", True, 1000000000)
    assert nodes.stale_update(n, 1000000000 + nodes.GRACE_SECONDS) is None
    st = nodes.stale_update(n, 1000000000 + nodes.GRACE_SECONDS + 1)
    c = [x for x in st["conditions"] if x["type"] == "Ready"][0]
    assert (c["status"], c["reason"]) == ("Unknown", "NodeStatusUnknown")
    assert nodes.ready_condition(n)["status"] == "True"     # the stored object is not changed in place
    assert nodes.stale_update(dict(n, status=st), 2000000000) is None
