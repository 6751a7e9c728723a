import FoundationEssentials

/// A synced secret's definition on the wire, in the Secret Synchronization Controller's vocabulary
/// (`SecretProviderClass` objects + `SecretSync` secretObject). Names only, never values.
public struct SecretDefinitionInfo: Codable, Sendable, Equatable {
    public var name: String
    /// `file` (a file in /etc/aios/secrets.d) or `cluster` (a SecretSync and its SecretProviderClass).
    public var source: String?
    /// Where it came from, e.g. `/etc/aios/secrets.d/db.yaml` or `SecretSync NS/NAME ... SecretProviderClass NS/SPC`.
    public var origin: String?
    public var keyvaultName: String
    public var tenantId: String?
    public var clientID: String?
    /// `NAMESPACE/NAME`.
    public var serviceAccountName: String?
    public var objects: [ObjectSpec]
    public var secretObject: SecretObjectSpec
    public var forceSynchronization: String?

    public init(name: String, source: String? = nil, origin: String? = nil, keyvaultName: String, tenantId: String? = nil,
                clientID: String? = nil, serviceAccountName: String? = nil, objects: [ObjectSpec], secretObject: SecretObjectSpec,
                forceSynchronization: String? = nil) {
        self.name = name
        self.source = source
        self.origin = origin
        self.keyvaultName = keyvaultName
        self.tenantId = tenantId
        self.clientID = clientID
        self.serviceAccountName = serviceAccountName
        self.objects = objects
        self.secretObject = secretObject
        self.forceSynchronization = forceSynchronization
    }

    public struct ObjectSpec: Codable, Sendable, Equatable {
        public var objectName: String
        /// `secret` (default) or `cert`.
        public var objectType: String?
        public var objectVersion: String?
        public var objectVersionHistory: Int?
        public var objectAlias: String?
        /// `utf-8` (default), `hex` or `base64`.
        public var objectEncoding: String?
        /// `pem` (default) or `pfx`.
        public var objectFormat: String?

        public init(objectName: String, objectType: String? = nil, objectVersion: String? = nil, objectVersionHistory: Int? = nil,
                    objectAlias: String? = nil, objectEncoding: String? = nil, objectFormat: String? = nil) {
            self.objectName = objectName
            self.objectType = objectType
            self.objectVersion = objectVersion
            self.objectVersionHistory = objectVersionHistory
            self.objectAlias = objectAlias
            self.objectEncoding = objectEncoding
            self.objectFormat = objectFormat
        }
    }

    public struct SecretObjectSpec: Codable, Sendable, Equatable {
        /// Default: `sync.defaultNamespace` in aiosd.yaml.
        public var namespace: String?
        /// Default: the definition's name.
        public var name: String?
        /// `Opaque` (default) or `kubernetes.io/tls`.
        public var type: String?
        public var labels: [String: String]?
        public var annotations: [String: String]?
        public var data: [KeyMappingSpec]?

        public init(namespace: String? = nil, name: String? = nil, type: String? = nil, labels: [String: String]? = nil,
                    annotations: [String: String]? = nil, data: [KeyMappingSpec]? = nil) {
            self.namespace = namespace
            self.name = name
            self.type = type
            self.labels = labels
            self.annotations = annotations
            self.data = data
        }
    }

    public struct KeyMappingSpec: Codable, Sendable, Equatable {
        public var sourcePath: String
        public var targetKey: String

        public init(sourcePath: String, targetKey: String) {
            self.sourcePath = sourcePath
            self.targetKey = targetKey
        }
    }
}
