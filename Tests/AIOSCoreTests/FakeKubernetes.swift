@testable import AIOSCore
import AIOSHTTP
import Foundation

/// An in-memory Kubernetes API server for Secrets, answering what `KubernetesClient` sends the way the real one
/// does: a new resourceVersion on every write, 409 when a created name exists, the uid precondition of a delete,
/// label selectors on the list. Server-side apply sets the fields it is given and keeps the others (keys someone
/// else added stay, as with a real field manager). `fault` answers a request instead, to inject failures.
final class FakeKubernetes: @unchecked Sendable {
    struct Secret {
        var namespace: String
        var name: String
        var uid: String
        var resourceVersion: String
        var type: String
        var labels: [String: String]
        var annotations: [String: String]
        var data: [String: [UInt8]]
    }

    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var secrets: [String: Secret] = [:]
    private var version = 100
    private var _requests: [String] = []
    private var _fault: (@Sendable (HTTPRequest) throws(HTTPClientError) -> HTTPResponse?)?
    /// Custom objects (SecretSyncs, SecretProviderClasses) by collection path and namespace/name, and the watch
    /// events not yet streamed.
    private var collections: [String: [String: [String: Any]]] = [:]
    private var pendingEvents: [String: [String]] = [:]

    var fault: (@Sendable (HTTPRequest) throws(HTTPClientError) -> HTTPResponse?)? {
        get { lock.withLock { _fault } }
        set { lock.withLock { _fault = newValue } }
    }

    /// "METHOD path" of every request, in order.
    var requests: [String] { lock.withLock { _requests } }
    func count(_ method: String) -> Int { requests.filter { $0.hasPrefix(method + " ") }.count }
    func resetRequests() { lock.withLock { _requests = [] } }

    func secret(_ namespace: String, _ name: String) -> Secret? { lock.withLock { secrets["\(namespace)/\(name)"] } }

    /// Serves collection `path` (a CRD that is installed), empty at first.
    func install(_ path: String) { lock.withLock { collections[path] = collections[path] ?? [:] } }

    /// A write by someone else (kubectl edit): new data for `key`, a new resourceVersion.
    func edit(_ namespace: String, _ name: String, key: String, value: String?) {
        lock.withLock {
            guard var secret = secrets["\(namespace)/\(name)"] else { return }
            secret.data[key] = value.map { Array($0.utf8) }
            version += 1
            secret.resourceVersion = "\(version)"
            secrets["\(namespace)/\(name)"] = secret
        }
    }

    /// A Secret someone else made.
    func put(_ secret: Secret) {
        lock.withLock {
            version += 1
            var copy = secret
            copy.resourceVersion = "\(version)"
            secrets["\(secret.namespace)/\(secret.name)"] = copy
        }
    }

    var transport: HTTPTransport {
        HTTPTransport { request throws(HTTPClientError) in try self.handle(request) }
    }

    /// Watches: the events queued for the collection since the last watch, or a quiet window of 50 ms.
    var streamer: HTTPStreamTransport {
        HTTPStreamTransport { request, onData throws(HTTPClientError) in
            let path = URLComponents(string: request.url)!.path
            let events = self.lock.withLock { () -> [String] in
                let events = self.pendingEvents[path] ?? []
                self.pendingEvents[path] = []
                return events
            }
            if events.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
            for event in events { Array((event + "\n").utf8).withUnsafeBytes { onData($0) } }
            return 200
        }
    }

    /// Creates or replaces a custom object in collection `path` (e.g. `ClusterObjects.secretSyncsPath`), as `kubectl apply`.
    func apply(_ path: String, _ object: [String: Any]) {
        lock.withLock {
            var object = object
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            let key = "\(metadata["namespace"] as? String ?? "")/\(metadata["name"] as? String ?? "")"
            let existed = collections[path]?[key] != nil
            version += 1
            metadata["resourceVersion"] = "\(version)"
            metadata["uid"] = metadata["uid"] ?? "uid-\(key)"
            metadata["generation"] = metadata["generation"] ?? 1
            object["metadata"] = metadata
            collections[path, default: [:]][key] = object
            pendingEvents[path, default: []].append(Self.event(existed ? "MODIFIED" : "ADDED", object))
        }
    }

    /// Deletes a custom object, as `kubectl delete`.
    func delete(_ path: String, namespace: String, name: String) {
        lock.withLock {
            guard var object = collections[path]?.removeValue(forKey: "\(namespace)/\(name)") else { return }
            version += 1
            var metadata = object["metadata"] as? [String: Any] ?? [:]
            metadata["resourceVersion"] = "\(version)"
            object["metadata"] = metadata
            pendingEvents[path, default: []].append(Self.event("DELETED", object))
        }
    }

    private static func event(_ type: String, _ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["type": type, "object": object]), as: UTF8.self)
    }

    static let kubeconfig = """
        apiVersion: v1
        clusters:
        - cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: Q0EtUEVN}
          name: default
        contexts:
        - context: {cluster: default, user: default}
          name: default
        current-context: default
        users:
        - name: default
          user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
        """

    func client() throws -> KubernetesClient {
        KubernetesClient(kubeconfig: try Kubeconfig.parse(Self.kubeconfig, file: "k3s.yaml"), transport: transport, streamer: streamer)
    }

    private func handle(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let url = URLComponents(string: request.url)!
        lock.withLock { _requests.append("\(request.method.rawValue) \(url.path)") }
        if let fault, let answer = try fault(request) { return answer }
        let parts = url.path.split(separator: "/").map(String.init)
        return lock.withLock {
            if let collection = collections[url.path], request.method == .get {
                return Self.json(200, ["metadata": ["resourceVersion": "\(version)"], "items": Array(collection.values)])
            }
            if request.method == .patch && url.path.hasSuffix("/status") { return Self.json(200, [:]) }
            switch (request.method, parts.count) {
            case (.get, 3) where parts == ["api", "v1", "secrets"], (.get, 5) where parts[0...2] == ["api", "v1", "namespaces"] && parts[4] == "secrets":
                let namespace = parts.count == 5 ? parts[3] : nil
                let selector = url.queryItems?.first { $0.name == "labelSelector" }?.value ?? ""
                let wanted = selector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
                // As the real API server: `limit`/`continue` pages in key order, and a metadata-only list when asked.
                var matching = secrets.values.filter { secret in
                    (namespace == nil || secret.namespace == namespace) && wanted.allSatisfy { secret.labels[$0[0]] == $0[1] }
                }
                    .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
                if let after = url.queryItems?.first(where: { $0.name == "continue" })?.value {
                    matching = matching.filter { "\($0.namespace)/\($0.name)" > after }
                }
                let limit = url.queryItems?.first { $0.name == "limit" }?.value.flatMap { Int($0) } ?? 0
                var metadata: [String: Any] = ["resourceVersion": "\(version)"]
                if limit > 0, matching.count > limit {
                    matching = Array(matching.prefix(limit))
                    metadata["continue"] = "\(matching[limit - 1].namespace)/\(matching[limit - 1].name)"
                }
                let metadataOnly = request.headers.first { $0.name == "Accept" }?.value.hasPrefix("application/json;as=PartialObjectMetadataList") ?? false
                let items = matching.map { metadataOnly ? Self.metadata(of: $0) : Self.render($0) }
                return Self.json(200, ["kind": metadataOnly ? "PartialObjectMetadataList" : "SecretList", "metadata": metadata, "items": items])
            case (_, 6) where parts[0...2] == ["api", "v1", "namespaces"] && parts[4] == "secrets":
                return object(request, namespace: parts[3], name: parts[5])
            case (.post, 5) where parts[0...2] == ["api", "v1", "namespaces"] && parts[4] == "secrets":
                let body = Self.decode(request)
                let name = (body["metadata"] as? [String: Any])?["name"] as? String ?? ""
                guard secrets["\(parts[3])/\(name)"] == nil else {
                    return Self.status(409, "AlreadyExists", "secrets \"\(name)\" already exists")
                }
                let secret = write(Secret(namespace: parts[3], name: name, uid: UUID().uuidString, resourceVersion: "", type: "Opaque",
                                          labels: [:], annotations: [:], data: [:]), body)
                return Self.json(201, Self.render(secret))
            default:
                return Self.status(404, "NotFound", "the server could not find the requested resource")
            }
        }
    }

    private func object(_ request: HTTPRequest, namespace: String, name: String) -> HTTPResponse {
        let key = "\(namespace)/\(name)"
        switch request.method {
        case .get:
            guard let secret = secrets[key] else { return Self.status(404, "NotFound", "secrets \"\(name)\" not found") }
            return Self.json(200, Self.render(secret))
        case .patch:
            let existing = secrets[key] ?? Secret(namespace: namespace, name: name, uid: UUID().uuidString, resourceVersion: "", type: "Opaque",
                                                  labels: [:], annotations: [:], data: [:])
            // 201 when the patch (an apply) created the Secret, as the API server answers.
            return Self.json(secrets[key] == nil ? 201 : 200, Self.render(write(existing, Self.decode(request))))
        case .delete:
            guard let secret = secrets[key] else { return Self.status(404, "NotFound", "secrets \"\(name)\" not found") }
            let uid = ((Self.decode(request)["preconditions"] as? [String: Any])?["uid"] as? String)
            if let uid, uid != secret.uid { return Self.status(409, "Conflict", "Precondition failed: UID in precondition: \(uid)") }
            secrets[key] = nil
            return Self.json(200, Self.render(secret))
        default:
            return Self.status(405, "MethodNotAllowed", "")
        }
    }

    /// Called with the lock held.
    private func write(_ base: Secret, _ body: [String: Any]) -> Secret {
        var secret = base
        let metadata = body["metadata"] as? [String: Any] ?? [:]
        secret.labels.merge(metadata["labels"] as? [String: String] ?? [:]) { $1 }
        secret.annotations.merge(metadata["annotations"] as? [String: String] ?? [:]) { $1 }
        secret.type = body["type"] as? String ?? secret.type
        for (key, value) in body["data"] as? [String: String] ?? [:] { secret.data[key] = Array(Data(base64Encoded: value)!) }
        version += 1
        secret.resourceVersion = "\(version)"
        secrets["\(secret.namespace)/\(secret.name)"] = secret
        return secret
    }

    private static func decode(_ request: HTTPRequest) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(request.body ?? []))) as? [String: Any] ?? [:]
    }

    private static func render(_ secret: Secret) -> [String: Any] {
        ["apiVersion": "v1", "kind": "Secret", "type": secret.type,
         "metadata": ["name": secret.name, "namespace": secret.namespace, "uid": secret.uid, "resourceVersion": secret.resourceVersion,
                      "labels": secret.labels, "annotations": secret.annotations] as [String: Any],
         "data": secret.data.mapValues { Data($0).base64EncodedString() }]
    }

    private static func metadata(of secret: Secret) -> [String: Any] {
        ["apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": (render(secret)["metadata"] as? [String: Any]) ?? [:]]
    }

    static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(try! JSONSerialization.data(withJSONObject: object)), headers: [("Content-Type", "application/json")])
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> HTTPResponse {
        json(code, ["kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code])
    }
}
