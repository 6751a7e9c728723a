import AIOSHTTP
import FoundationEssentials

/// Where rollouts live: `kube-system`, which only cluster administrators can write (a namespace user who could
/// write the record could have every server change its API server with the recorded level).
public enum K3sRolloutObjects {
    public static let namespace = "kube-system"
    public static let configMapName = "aios-rollout"
    public static let configMapKey = "rollout.json"
    public static let leaseName = "aios-k3s-restart"
}

/// The rollout record as the ConfigMap `kube-system/aios-rollout`, replaced only at the resourceVersion read.
public struct KubernetesRolloutStore: K3sRolloutStore {
    let client: KubernetesClient

    public init(client: KubernetesClient) { self.client = client }

    private var path: String { "/api/v1/namespaces/\(K3sRolloutObjects.namespace)/configmaps" }

    public func load() throws(K3sRolloutError) -> (rollout: K3sRollout, version: String)? {
        let response = try K3sRolloutError.asking { () throws(KubernetesError) in try client.send(.get, path + "/" + K3sRolloutObjects.configMapName) }
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw K3sRolloutError(KubernetesClient.error(from: response, doing: "read ConfigMap \(K3sRolloutObjects.namespace)/\(K3sRolloutObjects.configMapName)").description)
        }
        struct ConfigMap: Decodable {
            struct Metadata: Decodable { var resourceVersion: String? }
            var metadata: Metadata
            var data: [String: String]?
        }
        guard let object = try? JSONDecoder().decode(ConfigMap.self, from: Data(response.body)),
              let text = object.data?[K3sRolloutObjects.configMapKey], let version = object.metadata.resourceVersion else {
            throw K3sRolloutError("ConfigMap \(K3sRolloutObjects.namespace)/\(K3sRolloutObjects.configMapName) holds no \(K3sRolloutObjects.configMapKey)",
                                  hint: "kubectl -n \(K3sRolloutObjects.namespace) delete configmap \(K3sRolloutObjects.configMapName)")
        }
        return (try K3sRollout.decode(text), version)
    }

    public func save(_ rollout: K3sRollout, replacing version: String?) throws(K3sRolloutError) -> Bool {
        struct ConfigMap: Encodable {
            struct Metadata: Encodable {
                var name: String
                var namespace: String
                var resourceVersion: String?
                var labels: [String: String]
            }
            var apiVersion = "v1"
            var kind = "ConfigMap"
            var metadata: Metadata
            var data: [String: String]
        }
        let object = ConfigMap(metadata: .init(name: K3sRolloutObjects.configMapName, namespace: K3sRolloutObjects.namespace,
                                               resourceVersion: version, labels: ["app.kubernetes.io/managed-by": KubernetesClient.fieldManager]),
                               data: [K3sRolloutObjects.configMapKey: try rollout.encoded()])
        guard let body = try? JSONEncoder().encode(object) else { throw K3sRolloutError("cannot encode the rollout ConfigMap") }
        let response = try K3sRolloutError.asking { () throws(KubernetesError) in
            if version == nil {
                return try client.send(.post, path + "?fieldManager=\(KubernetesClient.fieldManager)", body: Array(body), contentType: "application/json")
            }
            return try client.send(.put, path + "/\(K3sRolloutObjects.configMapName)?fieldManager=\(KubernetesClient.fieldManager)",
                                   body: Array(body), contentType: "application/json")
        }
        if response.status == 409 { return false }
        guard response.status == 200 || response.status == 201 else {
            throw K3sRolloutError(KubernetesClient.error(from: response, doing: "write ConfigMap \(K3sRolloutObjects.namespace)/\(K3sRolloutObjects.configMapName)").description)
        }
        return true
    }
}

/// The servers: Nodes labelled `node-role.kubernetes.io/control-plane` (K3s labels every server so), and
/// whether their `Ready` condition is `True`.
public struct KubernetesServerDirectory: K3sServerDirectory {
    public static let controlPlaneLabel = "node-role.kubernetes.io/control-plane"
    let client: KubernetesClient

    public init(client: KubernetesClient) { self.client = client }

    public func servers() throws(K3sRolloutError) -> [K3sServerNode] {
        let selector = Self.controlPlaneLabel.replacingAll("/", with: "%2F")
        let response = try K3sRolloutError.asking { () throws(KubernetesError) in try client.send(.get, "/api/v1/nodes?labelSelector=\(selector)") }
        guard response.status == 200 else { throw K3sRolloutError(KubernetesClient.error(from: response, doing: "list Nodes").description) }
        return try Self.servers(in: Data(response.body))
    }

    static func servers(in body: Data) throws(K3sRolloutError) -> [K3sServerNode] {
        struct NodeList: Decodable {
            struct Node: Decodable {
                struct Metadata: Decodable { var name: String }
                struct Status: Decodable {
                    struct Condition: Decodable { var type: String; var status: String }
                    var conditions: [Condition]?
                }
                var metadata: Metadata
                var status: Status?
            }
            var items: [Node]?
        }
        guard let list = try? JSONDecoder().decode(NodeList.self, from: body) else { throw K3sRolloutError("the Node list is not a NodeList") }
        return (list.items ?? []).map { node in
            K3sServerNode(name: node.metadata.name,
                          ready: node.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false)
        }
    }
}

/// The restart lock as the Lease `kube-system/aios-k3s-restart`: taken by create, or by replacing an expired or
/// own lease at the resourceVersion read (optimistic concurrency, as client-go's leader election does).
public struct KubernetesRestartLock: K3sRestartLock {
    let client: KubernetesClient
    let now: @Sendable () -> Date

    public init(client: KubernetesClient, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.now = now
    }

    private var path: String { "/apis/coordination.k8s.io/v1/namespaces/\(K3sRolloutObjects.namespace)/leases" }

    struct Lease: Codable {
        struct Metadata: Codable {
            var name: String
            var namespace: String
            var resourceVersion: String?
        }
        struct Spec: Codable {
            var holderIdentity: String?
            var leaseDurationSeconds: Int?
            var acquireTime: String?
            var renewTime: String?
            var leaseTransitions: Int?
        }
        var apiVersion = "coordination.k8s.io/v1"
        var kind = "Lease"
        var metadata: Metadata
        var spec: Spec?
    }

    public func acquire(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool {
        let stamp = Self.microTime(now())
        let seconds = Int(duration.components.seconds)
        guard var lease = try read() else {
            let lease = Lease(metadata: .init(name: K3sRolloutObjects.leaseName, namespace: K3sRolloutObjects.namespace),
                              spec: .init(holderIdentity: holder, leaseDurationSeconds: seconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0))
            return try write(lease, create: true)
        }
        var spec = lease.spec ?? Lease.Spec()
        let held = !(spec.holderIdentity ?? "").isEmpty && spec.holderIdentity != holder
        if held, let renewed = spec.renewTime.flatMap(Self.parseMicroTime), let length = spec.leaseDurationSeconds,
           renewed.addingTimeInterval(Double(length)) > now() {
            return false
        }
        if spec.holderIdentity != holder {
            spec.acquireTime = stamp
            spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        spec.holderIdentity = holder
        spec.leaseDurationSeconds = seconds
        spec.renewTime = stamp
        lease.spec = spec
        return try write(lease, create: false)
    }

    public func renew(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool {
        guard var lease = try read(), lease.spec?.holderIdentity == holder else { return false }
        lease.spec?.leaseDurationSeconds = Int(duration.components.seconds)
        lease.spec?.renewTime = Self.microTime(now())
        return try write(lease, create: false)
    }

    public func release(holder: String) throws(K3sRolloutError) {
        guard var lease = try read(), lease.spec?.holderIdentity == holder else { return }
        lease.spec?.holderIdentity = ""
        lease.spec?.leaseDurationSeconds = 1
        lease.spec?.renewTime = Self.microTime(now())
        _ = try write(lease, create: false)
    }

    private func read() throws(K3sRolloutError) -> Lease? {
        let response = try K3sRolloutError.asking { () throws(KubernetesError) in try client.send(.get, path + "/" + K3sRolloutObjects.leaseName) }
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw K3sRolloutError(KubernetesClient.error(from: response, doing: "read the restart Lease").description) }
        guard let lease = try? JSONDecoder().decode(Lease.self, from: Data(response.body)) else { throw K3sRolloutError("the restart Lease is not a Lease") }
        return lease
    }

    /// False when another server wrote the Lease first (409).
    private func write(_ lease: Lease, create: Bool) throws(K3sRolloutError) -> Bool {
        guard let body = try? JSONEncoder().encode(lease) else { throw K3sRolloutError("cannot encode the restart Lease") }
        let response = try K3sRolloutError.asking { () throws(KubernetesError) in
            create ? try client.send(.post, path, body: Array(body), contentType: "application/json")
                : try client.send(.put, path + "/" + K3sRolloutObjects.leaseName, body: Array(body), contentType: "application/json")
        }
        if response.status == 409 { return false }
        guard response.status == 200 || response.status == 201 else {
            throw K3sRolloutError(KubernetesClient.error(from: response, doing: "write the restart Lease").description)
        }
        return true
    }

    /// Kubernetes' MicroTime (RFC 3339 with six fractional digits), as a Lease's times are written.
    static func microTime(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        let micros = min(999_999, Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded()))
        let seconds = InternetTime.format(Date(timeIntervalSince1970: whole))  // ...:05Z
        return String(seconds.dropLast()) + "." + InternetTime.pad(micros, 6) + "Z"
    }

    static func parseMicroTime(_ text: String) -> Date? { InternetTime.parse(text) }
}

extension K3sRolloutError {
    /// A Kubernetes call, its failure as the rollout's.
    static func asking<T>(_ body: () throws(KubernetesError) -> T) throws(K3sRolloutError) -> T {
        do { return try body() } catch { throw K3sRolloutError(error.description) }
    }
}
