import AIOSHTTP
import FoundationEssentials
import Synchronization

/// The Kubernetes API calls secret sync makes, with the K3s admin credentials (held in memory). Blocking;
/// safe to call from several threads (each call uses its own connection from a small pool).
public final class KubernetesClient: Sendable {
    public let kubeconfig: Kubeconfig
    /// The field manager of every server-side apply: the owner of the fields aiosd writes.
    public static let fieldManager = "aiosd"
    private let transport: HTTPTransport
    private let streamer: HTTPStreamTransport
    private let tls: TLSCredentials
    private let base: String
    private let requests = Mutex(0)

    public convenience init(kubeconfig: Kubeconfig) {
        self.init(kubeconfig: kubeconfig, transport: HTTPConnectionPool(capacity: 8).transport, streamer: .curl)
    }

    /// `transport` sends the plain requests, `streamer` the watches (a fake API server in unit tests).
    init(kubeconfig: Kubeconfig, transport: HTTPTransport, streamer: HTTPStreamTransport) {
        self.kubeconfig = kubeconfig
        self.tls = kubeconfig.tlsCredentials
        self.base = kubeconfig.server.hasSuffix("/") ? String(kubeconfig.server.dropLast()) : kubeconfig.server
        self.transport = transport
        self.streamer = streamer
    }

    /// Number of HTTP requests sent (for status and benchmarks).
    public var requestCount: Int { requests.withLock { $0 } }

    // MARK: TokenRequest

    /// A service-account token for `audience` (TokenRequest), and when it expires.
    public func requestToken(for account: ServiceAccountReference, audience: String, expirationSeconds: Int = 3600)
        throws(KubernetesError) -> (token: String, expiresAt: Date) {
        struct Body: Encodable {
            struct Spec: Encodable { var audiences: [String]; var expirationSeconds: Int }
            var apiVersion = "authentication.k8s.io/v1"
            var kind = "TokenRequest"
            var spec: Spec
        }
        struct Reply: Decodable {
            struct Status: Decodable { var token: String; var expirationTimestamp: String }
            var status: Status
        }
        let body = try encode(Body(spec: .init(audiences: [audience], expirationSeconds: expirationSeconds)))
        let path = "/api/v1/namespaces/\(account.namespace)/serviceaccounts/\(account.name)/token"
        let response = try send(.post, path, body: body, contentType: "application/json")
        guard response.status == 201 || response.status == 200 else {
            var error = Self.error(from: response, doing: "request a token for service account \(account)")
            if response.status == 404 {
                error.message = "service account \(account) does not exist (create it: kubectl -n \(account.namespace) create serviceaccount \(account.name))"
            }
            throw error
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: Data(response.body)), !reply.status.token.isEmpty else {
            throw KubernetesError(code: response.status, reason: "BadResponse", message: "the TokenRequest reply has no token")
        }
        let expiry = InternetTime.parse(reply.status.expirationTimestamp) ?? Date().addingTimeInterval(Double(expirationSeconds))
        return (reply.status.token, expiry)
    }

    // MARK: Secrets

    /// A Secret's identity and ownership, never its data.
    public struct SecretSummary: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var uid: String
        /// Changes with every write to the Secret, by anyone: how a hand edit is noticed without reading values.
        public var resourceVersion: String
        /// nil when listed metadata-only (a Secret's type is not metadata).
        public var type: String?
        public var labels: [String: String]
        public var annotations: [String: String]
    }

    /// Secrets per page of `listSecrets` (kubectl's and client-go's pager's default chunk size).
    public static let listPageSize = 500
    /// What `listSecrets` accepts: metadata only (the API server then sends no Secret data), as client-go's
    /// metadata client asks for it; plain JSON as the fallback of a server without it.
    static let metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"

    /// The metadata of every Secret matching `labelSelector`, in pages of `listPageSize` (`limit`/`continue`), each
    /// page metadata-only: what is checked every cycle costs no Secret values on the wire.
    public func listSecrets(labelSelector: String) throws(KubernetesError) -> [SecretSummary] {
        let items: [SecretObject] = try listPages("/api/v1/secrets?labelSelector=\(Self.queryValue(labelSelector))",
                                                  accept: Self.metadataListAccept, what: "Secrets", kind: "SecretList", read: SecretObject.page)
        return items.map(\.summary)
    }

    private struct ListPage<Item: Decodable>: Decodable {
        struct Metadata: Decodable { var `continue`: String? }
        var metadata: Metadata?
        var items: [Item]?
    }

    /// One page of a list: its items and the `continue` token of the next page; the list's resourceVersion when the
    /// reader keeps it (a watch starts there).
    struct Page<Item> {
        var items: [Item]
        var next: String?
        var resourceVersion: String? = nil
    }

    /// Every item of a list, read in pages of `listPageSize` (`limit`/`continue`). Each page is decoded with
    /// JSONDecoder, or by `read` (nil: not a list page).
    func listPages<Item: Decodable>(_ path: String, accept: String = "application/json", what: String, kind: String,
                                    read: (([UInt8]) -> Page<Item>?)? = nil) throws(KubernetesError) -> [Item] {
        try listPagesAndVersion(path, accept: accept, what: what, kind: kind, read: read).items
    }

    /// `listPages`, with the list's resourceVersion as its first page gave it (the pages of one list are one
    /// snapshot; "" when the reader does not keep it).
    func listPagesAndVersion<Item: Decodable>(_ path: String, accept: String = "application/json", what: String, kind: String,
                                              read: (([UInt8]) -> Page<Item>?)? = nil) throws(KubernetesError) -> (items: [Item], resourceVersion: String) {
        var items: [Item] = []
        var next: String?
        var version: String?
        var pages = 0
        repeat {
            pages += 1
            var page = "\(path)\(path.contains("?") ? "&" : "?")limit=\(Self.listPageSize)"
            if let next { page += "&continue=\(Self.queryValue(next))" }
            let response = try send(.get, page, accept: accept)
            guard response.status == 200 else {
                var error = Self.error(from: response, doing: "list \(what)")
                if response.status == 410 { error.message += " (the list changed too much while paging; the next cycle lists again)" }
                throw error
            }
            let decoded = read.map { $0(response.body) }
                ?? (try? JSONDecoder().decode(ListPage<Item>.self, from: Data(response.body))).map { Page(items: $0.items ?? [], next: $0.metadata?.continue) }
            guard let list = decoded else {
                throw KubernetesError(code: 200, reason: "BadResponse", message: "the \(what) list is not a \(kind)")
            }
            items += list.items
            if version == nil { version = list.resourceVersion ?? "" }
            next = list.next.flatMap { $0.isEmpty ? nil : $0 }
            guard pages <= 100_000 else {
                throw KubernetesError(code: 200, reason: "BadResponse", message: "the \(what) list does not end (more than 100,000 pages)")
            }
        } while next != nil
        return (items, version ?? "")
    }

    private static func queryValue(_ text: String) -> String {
        PercentEncoding.queryValue(text, alsoEscaping: "&=+?/")
    }

    /// The Secret, or nil if there is none.
    public func getSecret(namespace: String, name: String) throws(KubernetesError) -> SecretSummary? {
        let response = try send(.get, "/api/v1/namespaces/\(namespace)/secrets/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Self.error(from: response, doing: "read Secret \(namespace)/\(name)") }
        guard let secret = try? JSONDecoder().decode(SecretObject.self, from: Data(response.body)) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "Secret \(namespace)/\(name) is not a Secret")
        }
        return secret.summary
    }

    /// An owner of a Secret (`metadata.ownerReferences`): Kubernetes' garbage collector deletes the Secret
    /// when the owner goes, even while aiosd is down.
    public struct OwnerReference: Sendable, Equatable, Encodable {
        public var apiVersion: String
        public var kind: String
        public var name: String
        public var uid: String

        public init(apiVersion: String, kind: String, name: String, uid: String) {
            self.apiVersion = apiVersion
            self.kind = kind
            self.name = name
            self.uid = uid
        }
    }

    /// Creates the Secret and returns its resourceVersion; nil (and nothing changed) if a Secret of that name exists
    /// already. One request that both checks and creates, so a Secret someone else made is never taken over.
    public func createSecret(namespace: String, name: String, type: String, labels: [String: String], annotations: [String: String],
                             data: [String: [UInt8]]) throws(KubernetesError) -> String? {
        let body = Self.secretBody(namespace: namespace, name: name, type: type, labels: labels, annotations: annotations, owner: nil, data: data)
        let response = try send(.post, "/api/v1/namespaces/\(namespace)/secrets?fieldManager=\(Self.fieldManager)", body: body,
                                contentType: "application/json")
        if response.status == 409 { return nil }
        guard response.status == 201 || response.status == 200 else {
            throw Self.error(from: response, doing: "create Secret \(namespace)/\(name)")
        }
        return Self.resourceVersion(in: response)
    }

    /// A Secret's content (values included, for comparing with what aiosd wrote; never logged), or nil if there is none.
    public func getSecretContent(namespace: String, name: String) throws(KubernetesError) -> SecretContent? {
        let response = try send(.get, "/api/v1/namespaces/\(namespace)/secrets/\(name)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Self.error(from: response, doing: "read Secret \(namespace)/\(name)") }
        struct Object: Decodable {
            struct Metadata: Decodable { var resourceVersion: String? }
            var metadata: Metadata
            var type: String?
            var data: [String: String]?
        }
        guard let object = try? JSONDecoder().decode(Object.self, from: Data(response.body)) else {
            throw KubernetesError(code: 200, reason: "BadResponse", message: "Secret \(namespace)/\(name) is not a Secret")
        }
        var data: [String: [UInt8]] = [:]
        for (key, value) in object.data ?? [:] {
            guard let bytes = Data(base64Encoded: value) else {
                throw KubernetesError(code: 200, reason: "BadResponse", message: "Secret \(namespace)/\(name) has a key that is not base64: \(key)")
            }
            data[key] = Array(bytes)
        }
        return SecretContent(resourceVersion: object.metadata.resourceVersion ?? "", type: object.type ?? "Opaque", data: data)
    }

    /// What a Secret holds. No description: its values must never reach a log.
    public struct SecretContent: Sendable {
        public var resourceVersion: String
        public var type: String
        public var data: [String: [UInt8]]
    }

    /// The Secret as JSON, written directly (not through JSONEncoder: this runs once per Secret written).
    static func secretBody(namespace: String, name: String, type: String, labels: [String: String], annotations: [String: String],
                           owner: OwnerReference?, data: [String: [UInt8]]) -> [UInt8] {
        var json = JSONWriter(capacity: 512 + data.values.reduce(0) { $0 + $1.count * 4 / 3 })
        json.beginObject()
        json.member("apiVersion", "v1")
        json.member("kind", "Secret")
        json.key("metadata")
        json.beginObject()
        json.member("name", name)
        json.member("namespace", namespace)
        json.member("labels", labels)
        json.member("annotations", annotations)
        if let owner {
            json.key("ownerReferences")
            json.beginArray()
            json.beginObject()
            json.member("apiVersion", owner.apiVersion)
            json.member("kind", owner.kind)
            json.member("name", owner.name)
            json.member("uid", owner.uid)
            json.endObject()
            json.endArray()
        }
        json.endObject()
        json.member("type", type)
        json.member("data", data.mapValues { Data($0).base64EncodedString() })
        json.endObject()
        return json.bytes
    }

    /// Server-side apply of the whole Secret as aiosd's one field manager, for the first write and every later
    /// one: the apply entry then owns every field aiosd wrote, so a key, label or annotation left out of a later
    /// apply is removed (a Secret created by POST would be owned by an `Update` entry whose fields no apply
    /// ever removes). `createOnly`: the first write, without force, so a Secret someone else holds is not taken
    /// over; later writes force, as aiosd owns what it writes. Returns the Secret's new resourceVersion, or nil
    /// when `createOnly` found the Secret there (or another manager holding a field): nothing changed.
    ///
    /// `createOnly` reads the Secret first unless `knownAbsent` (a list of the namespace this cycle did not have
    /// it, and no other definition names it). A write after such a list that finds a Secret after all (200, not 201
    /// Created: someone created it in between) is taken back at once by an apply with no fields, which releases
    /// every field that write gave aiosd; fields the owner also set stay as they were (`releaseSecret`). After a
    /// read the window is a moment, and a 200 is left as it was before (it may be a Secret of aiosd's own manager,
    /// whose fields a release would strip).
    @discardableResult
    public func applySecret(namespace: String, name: String, type: String, labels: [String: String], annotations: [String: String],
                            owner: OwnerReference? = nil, data: [String: [UInt8]], createOnly: Bool = false,
                            knownAbsent: Bool = false) throws(KubernetesError) -> String? {
        if createOnly, !knownAbsent, try getSecret(namespace: namespace, name: name) != nil { return nil }
        let body = Self.secretBody(namespace: namespace, name: name, type: type, labels: labels, annotations: annotations, owner: owner, data: data)
        let path = "/api/v1/namespaces/\(namespace)/secrets/\(name)?fieldManager=\(Self.fieldManager)\(createOnly ? "" : "&force=true")"
        let response = try send(.patch, path, body: body, contentType: "application/apply-patch+yaml")
        if createOnly && response.status == 409 { return nil }
        guard response.status == 200 || response.status == 201 else {
            throw Self.error(from: response, doing: "apply Secret \(namespace)/\(name)")
        }
        // The API server answers 201 when an apply created the object, 200 when it changed one that was there
        // (k8s.io/apiserver pkg/endpoints/handlers/patch.go: `if wasCreated { status = http.StatusCreated }`).
        if createOnly && knownAbsent && response.status == 200 {
            try releaseSecret(namespace: namespace, name: name)
            return nil
        }
        return Self.resourceVersion(in: response)
    }

    /// Applies a Secret with no fields as aiosd: server-side apply removes every field only aiosd's apply entry
    /// holds, so a Secret someone else created is left with what they wrote.
    private func releaseSecret(namespace: String, name: String) throws(KubernetesError) {
        let body = Array(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)","namespace":"\#(namespace)"}}"#.utf8)
        let response = try send(.patch, "/api/v1/namespaces/\(namespace)/secrets/\(name)?fieldManager=\(Self.fieldManager)", body: body,
                                contentType: "application/apply-patch+yaml")
        guard response.status == 200 else { throw Self.error(from: response, doing: "release Secret \(namespace)/\(name)") }
    }

    /// The names of the Secrets in `namespace` (metadata only, in pages): which targets a first sync can create
    /// without reading each one first.
    public func secretNames(namespace: String) throws(KubernetesError) -> Set<String> {
        let items: [SecretObject] = try listPages("/api/v1/namespaces/\(namespace)/secrets", accept: Self.metadataListAccept,
                                                  what: "Secrets in \(namespace)", kind: "SecretList", read: SecretObject.page)
        return Set(items.map(\.metadata.name))
    }

    /// The resourceVersion of the object a write returned ("" if it has none: the next sync then compares).
    static func resourceVersion(in response: HTTPResponse) -> String {
        JSONScanner.string(at: ["metadata", "resourceVersion"], in: response.body) ?? ""
    }

    /// Deletes the Secret only if it is still the object with `uid` (a precondition the API server checks).
    public func deleteSecret(namespace: String, name: String, uid: String) throws(KubernetesError) {
        let body = Array(#"{"apiVersion":"v1","kind":"DeleteOptions","preconditions":{"uid":"\#(uid)"}}"#.utf8)
        let response = try send(.delete, "/api/v1/namespaces/\(namespace)/secrets/\(name)", body: body, contentType: "application/json")
        guard response.status == 200 || response.status == 202 || response.status == 404 else {
            throw Self.error(from: response, doing: "delete Secret \(namespace)/\(name)")
        }
    }

    // MARK: Plumbing

    /// A listed Secret (or its PartialObjectMetadata), as `SecretObject.page` reads it; a single Secret is decoded.
    struct SecretObject: Decodable {
        struct Metadata: Decodable {
            var name: String
            var namespace: String?
            var uid: String?
            var resourceVersion: String?
            var labels: [String: String]?
            var annotations: [String: String]?
        }
        var metadata: Metadata
        /// A Secret's; absent from a PartialObjectMetadata. `data` is never decoded (its values are not needed).
        var type: String?
        var kind: String?

        var summary: SecretSummary {
            SecretSummary(namespace: metadata.namespace ?? "", name: metadata.name, uid: metadata.uid ?? "",
                          resourceVersion: metadata.resourceVersion ?? "",
                          type: kind == "PartialObjectMetadata" ? type : (type ?? "Opaque"),
                          labels: metadata.labels ?? [:], annotations: metadata.annotations ?? [:])
        }
    }

    private func encode(_ value: some Encodable) throws(KubernetesError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(value))
        } catch {
            throw KubernetesError(code: 0, reason: "Internal", message: "cannot encode the request")
        }
    }

    /// Merge-patches the `status` subresource of a custom resource (e.g. a SecretSync).
    public func patchStatus(path: String, status: [String: JSONValue]) throws(KubernetesError) {
        guard let body = try? JSONValue.object(["status": .object(status)]).encoded(sortedKeys: true) else {
            throw KubernetesError(code: 0, reason: "Internal", message: "cannot encode the status")
        }
        let response = try send(.patch, path + "/status", body: Array(body), contentType: "application/merge-patch+json")
        guard response.status == 200 else { throw Self.error(from: response, doing: "update the status of \(path)") }
    }

    /// A streaming GET on a connection of its own (a watch), handing each chunk to `onData`. Returns the status.
    func stream(_ path: String, timeout: Duration, onData: (UnsafeRawBufferPointer) -> Void) throws(KubernetesError) -> Int {
        // A watch window's events together; past it the watch ends and is re-listed.
        let request = self.request(.get, path, headers: [("Accept", "application/json")], timeout: timeout, maximumResponseBytes: 64 << 20)
        requests.withLock { $0 += 1 }
        do {
            return try streamer.stream(request, onData)
        } catch {
            if error.kind == .timedOut { return 200 }  // the watch outlived its window: reconnect
            throw KubernetesError(code: 0, reason: "Unreachable", message: "cannot reach the Kubernetes API server at \(kubeconfig.server): \(error)")
        }
    }

    func send(_ method: HTTPRequest.Method, _ path: String, body: [UInt8]? = nil, contentType: String? = nil,
              accept: String = "application/json") throws(KubernetesError) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Accept", accept)]
        if let contentType { headers.append(("Content-Type", contentType)) }
        let request = self.request(method, path, headers: headers, body: body, timeout: .seconds(30))
        requests.withLock { $0 += 1 }
        do {
            return try MetricsRegistry.shared.measured(service: "kubernetes") { () throws(HTTPClientError) in try transport.send(request) }
        } catch {
            throw KubernetesError(code: 0, reason: "Unreachable", message: "cannot reach the Kubernetes API server at \(kubeconfig.server): \(error)")
        }
    }

    /// Every request to the API server: k3s.yaml's CA as the only trust, and never through a proxy (the
    /// environment's `https_proxy` would otherwise see the admin client certificate's session).
    func request(_ method: HTTPRequest.Method, _ path: String, headers: [(name: String, value: String)], body: [UInt8]? = nil,
                 timeout: Duration, maximumResponseBytes: Int = HTTPRequest.defaultMaximumResponseBytes) -> HTTPRequest {
        HTTPRequest(method: method, url: base + path, headers: headers, body: body, timeout: timeout, tls: tls, bypassesProxy: true,
                    maximumResponseBytes: maximumResponseBytes)
    }

    /// The Status the API server sent, or a summary of an unexpected answer.
    static func error(from response: HTTPResponse, doing what: String) -> KubernetesError {
        struct Status: Decodable { var reason: String?; var message: String? }
        let status = try? JSONDecoder().decode(Status.self, from: Data(response.body))
        return KubernetesError(code: response.status, reason: status?.reason ?? "HTTP\(response.status)",
                               message: "cannot \(what): \(status?.message ?? "HTTP \(response.status)")")
    }
}
