/// The Lease calls of whatever Kubernetes client is current (the kubeconfig may appear or change while aiosd
/// runs): resolved at each call, an unusable kubeconfig being an unreachable API server.
public struct CurrentLeaseClient: LeaseClient {
    let resolve: @Sendable () throws(SyncIssue) -> KubernetesClient

    public init(resolve: @escaping @Sendable () throws(SyncIssue) -> KubernetesClient) { self.resolve = resolve }

    private func client() throws(KubernetesError) -> KubernetesClient {
        do { return try resolve() } catch { throw KubernetesError(code: 0, reason: "Unreachable", message: error.message) }
    }

    public func getLease(namespace: String, name: String) throws(KubernetesError) -> LeaseRecord? {
        try client().getLease(namespace: namespace, name: name)
    }

    public func createLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
        try client().createLease(namespace: namespace, name: name, record)
    }

    public func updateLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
        try client().updateLease(namespace: namespace, name: name, record)
    }

    public func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord] {
        try client().listLeases(namespace: namespace, labelSelector: labelSelector)
    }

    public func deleteLease(namespace: String, name: String) throws(KubernetesError) {
        try client().deleteLease(namespace: namespace, name: name)
    }

    public func listLeasesForWatch(namespace: String, labelSelector: String) throws(KubernetesError) -> (leases: [String: LeaseRecord], resourceVersion: String) {
        try client().listLeasesForWatch(namespace: namespace, labelSelector: labelSelector)
    }

    public func watchLeases(namespace: String, labelSelector: String, from resourceVersion: String, timeoutSeconds: Int,
                            onChange: (LeaseChange) -> Void) throws(KubernetesError) -> KubernetesWatch.Outcome {
        try client().watchLeases(namespace: namespace, labelSelector: labelSelector, from: resourceVersion, timeoutSeconds: timeoutSeconds, onChange: onChange)
    }
}
