import FoundationEssentials

/// One synced Kubernetes Secret and the Key Vault objects it is made of, in the vocabulary of the Secret
/// Synchronization Controller (`SecretProviderClass` objects + `SecretSync` data mapping).
public struct SyncDefinition: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// `/etc/aios/secrets.d/NAME.yaml`.
        case file(path: String)
        /// A `SecretSync` object in the cluster and the `SecretProviderClass` it names.
        case cluster(ClusterOrigin)

        /// `file` or `cluster`: also the value of the Secret's `aios.microsoft.com/source` label.
        public var kind: String {
            switch self {
            case .file: "file"
            case .cluster: "cluster"
            }
        }
    }

    /// Where a cluster definition comes from.
    public struct ClusterOrigin: Sendable, Equatable {
        public var namespace: String
        public var secretSync: String
        public var secretProviderClass: String
        public var uid: String
        public var generation: Int
        public var resourceVersion: String
        /// The Secret carries an ownerReference to the SecretSync, so Kubernetes' garbage collector deletes it with
        /// the SecretSync (`cluster.onSecretSyncDeleted: delete`). Off under `retain`: the collector would delete
        /// the Secret aiosd promised to keep.
        public var ownedBySecretSync = true

        public init(namespace: String, secretSync: String, secretProviderClass: String, uid: String, generation: Int, resourceVersion: String) {
            self.namespace = namespace
            self.secretSync = secretSync
            self.secretProviderClass = secretProviderClass
            self.uid = uid
            self.generation = generation
            self.resourceVersion = resourceVersion
        }
    }

    /// The fields, in one shared immutable box: aiosd holds every definition in several tables at once (the loaded
    /// files, their rendered texts, the definition hashes, a cycle's groups), and at 288 bytes inline 10,000
    /// definitions cost ~3 MB per table and per copy of it (heaptrack, first sync of 10,000). Boxed, a copy is
    /// a reference; a change (rare: a cluster definition's origin, `writtenBy`) makes a new box.
    private var storage: Storage

    private final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// Named as it is so that `hashInput` can put the definition's own name in its place.
    struct Fields: Sendable, Equatable {
        var name: String
        var source: Source
        var keyvaultName: String
        var tenantId: String?
        var clientId: String?
        var serviceAccount: ServiceAccountReference?
        var objects: [SyncObject]
        var target: TargetSecret
        var forceSynchronization: String?
        var writtenBy: Privilege
    }

    private mutating func update(_ change: (inout Fields) -> Void) {
        var fields = storage.fields
        change(&fields)
        storage = Storage(fields)
    }

    /// The definition's name: the file's name without `.yaml` (also the default target Secret name), or
    /// `NAMESPACE/NAME` of a SecretSync.
    public var name: String {
        get { storage.fields.name }
        set { update { $0.name = newValue } }
    }
    public var source: Source {
        get { storage.fields.source }
        set { update { $0.source = newValue } }
    }
    public var keyvaultName: String {
        get { storage.fields.keyvaultName }
        set { update { $0.keyvaultName = newValue } }
    }
    /// Overrides of the agent's identity for this definition; nil = `identity` in aiosd.yaml.
    public var tenantId: String? {
        get { storage.fields.tenantId }
        set { update { $0.tenantId = newValue } }
    }
    public var clientId: String? {
        get { storage.fields.clientId }
        set { update { $0.clientId = newValue } }
    }
    public var serviceAccount: ServiceAccountReference? {
        get { storage.fields.serviceAccount }
        set { update { $0.serviceAccount = newValue } }
    }
    public var objects: [SyncObject] {
        get { storage.fields.objects }
        set { update { $0.objects = newValue } }
    }
    public var target: TargetSecret {
        get { storage.fields.target }
        set { update { $0.target = newValue } }
    }
    /// A change of this value forces a sync of this definition.
    public var forceSynchronization: String? {
        get { storage.fields.forceSynchronization }
        set { update { $0.forceSynchronization = newValue } }
    }
    /// Who wrote a file definition: `.operator` when `aiosctl secret add` ran at the operator level (recorded in
    /// the file as `writtenBy: operator`), else `.root` (root's API calls, and files edited by hand in the
    /// root-owned secrets.d). An operator's definition is held to the identity rule on every sync too.
    public var writtenBy: Privilege {
        get { storage.fields.writtenBy }
        set { update { $0.writtenBy = newValue } }
    }

    public init(name: String, source: Source, keyvaultName: String, tenantId: String? = nil, clientId: String? = nil,
                serviceAccount: ServiceAccountReference? = nil, objects: [SyncObject], target: TargetSecret,
                forceSynchronization: String? = nil, writtenBy: Privilege = .root) {
        storage = Storage(Fields(name: name, source: source, keyvaultName: keyvaultName, tenantId: tenantId, clientId: clientId,
                                 serviceAccount: serviceAccount, objects: objects, target: target,
                                 forceSynchronization: forceSynchronization, writtenBy: writtenBy))
    }

    public static func == (lhs: SyncDefinition, rhs: SyncDefinition) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    /// The text the definition hash is computed from: what `String(describing:)` printed for the definition
    /// when its fields were stored inline (`SyncDefinition(name: "...", source: ...)`), so the hashes recorded
    /// in the state file before stay valid.
    var hashInput: String {
        "SyncDefinition" + String(describing: storage.fields).dropFirst("Fields".count)
    }
}

/// A Key Vault object as a `SecretProviderClass` lists it.
public struct SyncObject: Sendable, Equatable {
    public enum ObjectType: String, Sendable, CaseIterable { case secret, cert }
    public enum Encoding: String, Sendable, CaseIterable { case utf8 = "utf-8", hex, base64 }
    public enum Format: String, Sendable, CaseIterable { case pem, pfx }

    public var objectName: String
    public var objectType: ObjectType = .secret
    /// A pinned version (32 hex characters); nil = the latest.
    public var objectVersion: String?
    /// Sync this many versions, newest first, as `alias/0` ... `alias/N-1`; 0 or 1 = only the current one as `alias`.
    public var objectVersionHistory: Int = 0
    public var objectAlias: String?
    public var objectEncoding: Encoding = .utf8
    public var objectFormat: Format = .pem

    public init(objectName: String, objectType: ObjectType = .secret, objectVersion: String? = nil, objectVersionHistory: Int = 0,
                objectAlias: String? = nil, objectEncoding: Encoding = .utf8, objectFormat: Format = .pem) {
        self.objectName = objectName
        self.objectType = objectType
        self.objectVersion = objectVersion
        self.objectVersionHistory = objectVersionHistory
        self.objectAlias = objectAlias
        self.objectEncoding = objectEncoding
        self.objectFormat = objectFormat
    }

    /// The name its content goes by in `sourcePath` (the provider's file name).
    public var alias: String { objectAlias ?? objectName }

    /// The source paths this object produces: `alias`, or `alias/0` ... `alias/N` with a version history of N > 1
    /// (N+1 of them, as the Azure provider counts: see `VaultAccess.history`).
    public var sourcePaths: [String] {
        objectVersionHistory > 1 ? (0...objectVersionHistory).map { "\(alias)/\($0)" } : [alias]
    }
}

/// The Kubernetes Secret a definition produces.
public struct TargetSecret: Sendable, Equatable {
    /// The Secret types the Secret Synchronization Controller allows (its admission policy), minus
    /// service-account tokens.
    public enum SecretType: String, Sendable, CaseIterable {
        case opaque = "Opaque"
        case tls = "kubernetes.io/tls"
        case basicAuth = "kubernetes.io/basic-auth"
        case sshAuth = "kubernetes.io/ssh-auth"
        case dockerConfigJSON = "kubernetes.io/dockerconfigjson"
        case dockerConfig = "kubernetes.io/dockercfg"
        case bootstrapToken = "bootstrap.kubernetes.io/token"
    }

    public var namespace: String
    public var name: String
    public var type: SecretType = .opaque
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    /// `sourcePath` -> `targetKey`; empty = every source path under its own name (`/` becomes `-`).
    public var data: [KeyMapping] = []

    public init(namespace: String, name: String, type: SecretType = .opaque, labels: [String: String] = [:],
                annotations: [String: String] = [:], data: [KeyMapping] = []) {
        self.namespace = namespace
        self.name = name
        self.type = type
        self.labels = labels
        self.annotations = annotations
        self.data = data
    }
}

public struct KeyMapping: Sendable, Equatable {
    public var sourcePath: String
    public var targetKey: String

    public init(sourcePath: String, targetKey: String) {
        self.sourcePath = sourcePath
        self.targetKey = targetKey
    }
}

/// `namespace/name` of a Kubernetes service account.
public struct ServiceAccountReference: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `NS/SA`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, KubernetesNames.isLabel(String(parts[0])), KubernetesNames.isSubdomain(String(parts[1])) else { return nil }
        self.init(namespace: String(parts[0]), name: String(parts[1]))
    }

    public var description: String { "\(namespace)/\(name)" }
    /// The subject Entra sees in the service account's tokens.
    public var subject: String { "system:serviceaccount:\(namespace):\(name)" }
}

extension SyncDefinition {
    /// The value of the `aios.microsoft.com/sync` label on its Secret: the definition's (or SecretSync's) name,
    /// or a digest of it when it is not a valid label value (longer than 63 characters).
    public var ownerLabelValue: String {
        let base: String
        switch source {
        case .file: base = name
        case .cluster(let origin): base = origin.secretSync
        }
        if KubernetesNames.isLabelValue(base) { return base }
        return "sha256-" + String(ContentHasher.digest(Array(base.utf8)).prefix(56))
    }

    /// The data mapping in force: the explicit one, or each source path under its own name.
    public var effectiveMappings: [KeyMapping] {
        if !target.data.isEmpty { return target.data }
        if target.type == .tls, let first = objects.first {
            return [KeyMapping(sourcePath: first.sourcePaths[0], targetKey: "tls.crt")]
        }
        return objects.flatMap(\.sourcePaths).map { KeyMapping(sourcePath: $0, targetKey: $0.replacingAll("/", with: "-")) }
    }
}
