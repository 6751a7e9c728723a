@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Logging
import Synchronization

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
            case (.get, 3) where parts == ["api", "v1", "secrets"]:
                let selector = url.queryItems?.first { $0.name == "labelSelector" }?.value ?? ""
                let wanted = selector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
                let items = secrets.values.filter { secret in wanted.allSatisfy { secret.labels[$0[0]] == $0[1] } }
                    .sorted { $0.name < $1.name }.map(Self.render)
                return Self.json(200, ["kind": "SecretList", "metadata": ["resourceVersion": "\(version)"], "items": items])
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
            return Self.json(200, Self.render(write(existing, Self.decode(request))))
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

    static func json(_ status: Int, _ object: [String: Any]) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(try! JSONSerialization.data(withJSONObject: object)), headers: [("Content-Type", "application/json")])
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> HTTPResponse {
        json(code, ["kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code])
    }
}

/// Key Vaults on the data plane: the 401 challenge, the list of secrets, each secret's latest value; disabled and
/// missing secrets answer as Key Vault does. `faults` answer GETs of one secret instead (403, 429, 500, ...).
final class FakeVaults: @unchecked Sendable {
    struct Item {
        var value: String
        var enabled = true
        var updated: Int
        var version: String
    }

    // @unchecked: every field is guarded by `lock`.
    private let lock = NSLock()
    private var vaults: [String: [String: Item]] = [:]
    private var faults: [String: HTTPResponse] = [:]
    private var listFaults: [String: HTTPResponse] = [:]
    private var _gets: [String] = []
    private var _tokens: [String] = []
    private var nextVersion = 0

    /// Sets (or changes) a secret: a new version and `updated` time, as `az keyvault secret set` does.
    func set(_ vault: String, _ name: String, _ value: String, enabled: Bool = true, updated: Int? = nil) {
        lock.withLock {
            nextVersion += 1
            let previous = vaults[vault]?[name]?.updated ?? 1_767_225_600
            vaults[vault, default: [:]][name] = Item(value: value, enabled: enabled, updated: updated ?? previous + 10,
                                                      version: String(format: "%032x", nextVersion))
        }
    }

    func delete(_ vault: String, _ name: String) { lock.withLock { vaults[vault]?[name] = nil } }
    func fail(_ vault: String, _ name: String, with response: HTTPResponse?) { lock.withLock { faults["\(vault)/\(name)"] = response } }
    func failList(_ vault: String, with response: HTTPResponse?) { lock.withLock { listFaults[vault] = response } }

    /// "vault/secret" of every value read.
    var gets: [String] { lock.withLock { _gets } }
    /// The bearer tokens requests carried.
    var tokens: [String] { lock.withLock { _tokens } }

    var transport: HTTPTransport {
        HTTPTransport { request throws(HTTPClientError) in self.handle(request) }
    }

    static func error(_ status: Int, _ code: String, inner: String? = nil, _ message: String = "refused") -> HTTPResponse {
        var error: [String: Any] = ["code": code, "message": message]
        if let inner { error["innererror"] = ["code": inner] }
        return FakeKubernetes.json(status, ["error": error])
    }

    private func handle(_ request: HTTPRequest) -> HTTPResponse {
        let url = URLComponents(string: request.url)!
        let vault = String(url.host!.split(separator: ".")[0])
        guard let authorization = request.headers.first(where: { $0.name == "Authorization" })?.value else {
            return HTTPResponse(status: 401, body: Array(#"{"error":{"code":"Unauthorized","message":"no token"}}"#.utf8),
                                headers: [("WWW-Authenticate", #"Bearer authorization="https://login.microsoftonline.com/tenant-kv", resource="https://vault.azure.net""#)])
        }
        let parts = url.path.split(separator: "/").map(String.init)
        return lock.withLock {
            _tokens.append(String(authorization.dropFirst("Bearer ".count)))
            let base = "https://\(url.host!)"
            if parts == ["secrets"] {
                if let fault = listFaults[vault] { return fault }
                let items: [[String: Any]] = (vaults[vault] ?? [:]).sorted { $0.key < $1.key }.map { name, item in
                    ["id": "\(base)/secrets/\(name)", "attributes": ["enabled": item.enabled, "updated": item.updated, "created": 1_767_225_600]]
                }
                return FakeKubernetes.json(200, ["value": items, "nextLink": NSNull()])
            }
            guard parts.count == 2, parts[0] == "secrets" else { return Self.error(400, "BadParameter") }
            let name = parts[1]
            _gets.append("\(vault)/\(name)")
            if let fault = faults["\(vault)/\(name)"] { return fault }
            guard let item = vaults[vault]?[name] else {
                return Self.error(404, "SecretNotFound", "A secret with (name/id) \(name) was not found in this key vault.")
            }
            guard item.enabled else { return Self.error(403, "Forbidden", inner: "SecretDisabled", "Operation get is not allowed on a disabled secret.") }
            return FakeKubernetes.json(200, ["value": item.value, "id": "\(base)/secrets/\(name)/\(item.version)",
                                             "attributes": ["enabled": true, "updated": item.updated, "created": 1_767_225_600]])
        }
    }
}

/// Every log entry at every level, rendered with its metadata, for leak checks.
final class LogCapture: @unchecked Sendable {
    // @unchecked: `_lines` is guarded by `lock`.
    private let lock = NSLock()
    private var _lines: [String] = []

    var lines: [String] { lock.withLock { _lines } }
    var text: String { lines.joined(separator: "\n") }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) { lock.withLock { _lines.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let all = self.metadata.merging(metadata ?? [:]) { $1 }
            capture.append("\(level) \(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
    }
}

/// A credential that counts the tokens it was asked for.
final class TokenCounter: TokenCredential, Sendable {
    private let count = Mutex(0)
    var calls: Int { count.withLock { $0 } }

    func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let n = count.withLock { $0 += 1; return $0 }
        return AccessToken(value: "token-\(n)", expiresOn: Date().addingTimeInterval(3600))
    }
}

/// A sync engine over a fake Kubernetes API server and fake vaults (the real clients, fakes only at their
/// transports), with its state and content-hash key in a temporary directory.
final class SyncHarness: @unchecked Sendable {
    static let planted = "PLANTED-VALUE-7f3a9c"
    let directory: TemporaryDirectory
    let kube = FakeKubernetes()
    let vaults = FakeVaults()
    let logs = LogCapture()
    /// One counting credential per identity, made when the engine first asks for it.
    final class Credentials: Sendable {
        private let map = Mutex<[SyncIdentity: TokenCounter]>([:])
        func callFor(_ identity: SyncIdentity) -> TokenCounter {
            map.withLock { map in
                if let existing = map[identity] { return existing }
                let made = TokenCounter()
                map[identity] = made
                return made
            }
        }
        subscript(_ identity: SyncIdentity) -> TokenCounter? { map.withLock { $0[identity] } }
        var calls: [Int] { map.withLock { $0.values.map(\.calls) } }
    }
    let credentials = Credentials()
    let key: [UInt8]
    var configuration = AgentConfiguration()
    private(set) var engine: SecretSyncEngine!

    init(key: [UInt8] = Array(repeating: 7, count: 32)) throws {
        self.key = key
        directory = try TemporaryDirectory(prefix: "sync")
        configuration.sync.kubeconfig = try directory.write("k3s.yaml", FakeKubernetes.kubeconfig)
        configuration.identity.tenantId = "72f988bf-0000-4000-8000-00000000a105"
        configuration.identity.clientId = "11111111-2222-3333-4444-555555555555"
        try Data(key).write(to: URL(fileURLWithPath: directory.file("content-hash.key")))
        restart()
    }

    deinit { directory.remove() }

    /// A new engine over the same state file, as after an aiosd restart (no values in memory, no tokens).
    func restart() {
        let credentials = self.credentials
        let transports = SyncConnections.Transports(
            kubernetes: kube.transport, kubernetesStream: kube.streamer, vault: vaults.transport,
            credential: { identity in credentials.callFor(identity) },
            logger: logs.logger("aios.keyvault"))
        engine = SecretSyncEngine(state: SyncStateStore(path: directory.file("sync-state.json")), hasherKeyPath: directory.file("content-hash.key"),
                                  connections: SyncConnections(transports: transports), logger: logs.logger("aios.sync"))
    }

    func definition(_ name: String, _ yaml: String) throws -> SyncDefinition {
        try SyncDefinitionFile.parse(yaml, file: "/etc/aios/secrets.d/\(name).yaml", name: name, defaultNamespace: "apps")
    }

    /// `db`: one object `db-password` of vault `kv-one` as key `password` of Secret apps/db.
    func db() throws -> SyncDefinition {
        try definition("db", "keyvaultName: kv-one\nobjects:\n  - objectName: db-password\nsecretObject:\n  data:\n    - {sourcePath: db-password, targetKey: password}\n")
    }

    /// A harness after a first cycle synced `value` of `db-password` to apps/db.
    static func synced(_ value: String) throws -> SyncHarness {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", value)
        h.run([try h.db()])
        return h
    }

    @discardableResult
    func run(_ definitions: [SyncDefinition], force: Bool = false) -> SyncCycleReport {
        engine.run(definitions: definitions, invalid: [], force: force, configuration: configuration)
    }

    func value(_ namespace: String, _ name: String, _ key: String) -> String? {
        kube.secret(namespace, name)?.data[key].map { String(decoding: $0, as: UTF8.self) }
    }
}

