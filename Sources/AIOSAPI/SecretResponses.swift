import FoundationEssentials

/// `GET /v1/secrets`.
public struct SecretListResponse: Codable, Sendable, Equatable {
    public var secrets: [Entry]
    /// Definitions aiosd cannot use (files, SecretSyncs); they are left alone until fixed.
    public var invalid: [InvalidDefinition]
    /// Why the cluster's SecretSyncs are not synced, when they are not.
    public var cluster: String?
    /// SecretSyncs in the cluster that `cluster.secretSyncs` leaves out, each with why and the command that selects it
    /// (`aiosctl secret list --all` shows them).
    public var unselected: [UnselectedSecretSync]?
    /// Set on a node that does not sync (a follower: `follower (leader: NAME)`): the statuses then come from the
    /// cluster's Secrets, as the leader wrote them (state `synced` with their content hash, or `pending`).
    public var syncedBy: String?

    public init(secrets: [Entry], invalid: [InvalidDefinition], cluster: String? = nil, unselected: [UnselectedSecretSync]? = nil,
                syncedBy: String? = nil) {
        self.syncedBy = syncedBy
        self.secrets = secrets
        self.invalid = invalid
        self.cluster = cluster
        self.unselected = unselected
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        /// `file` or `cluster`.
        public var source: String
        public var keyvaultName: String
        /// `NAMESPACE/NAME` of the target Secret.
        public var target: String
        public var type: String
        public var objects: [String]
        public var status: SecretStatusInfo

        public init(name: String, source: String, keyvaultName: String, target: String, type: String, objects: [String], status: SecretStatusInfo) {
            self.name = name
            self.source = source
            self.keyvaultName = keyvaultName
            self.target = target
            self.type = type
            self.objects = objects
            self.status = status
        }
    }
}

/// A SecretSync aiosd sees in the cluster but does not sync.
public struct UnselectedSecretSync: Codable, Sendable, Equatable {
    /// `NAMESPACE/NAME`.
    public var name: String
    public var reason: String
    /// The command that selects it.
    public var fix: String

    public init(name: String, reason: String, fix: String) {
        self.name = name
        self.reason = reason
        self.fix = fix
    }
}

public struct InvalidDefinition: Codable, Sendable, Equatable {
    public var name: String
    /// `file` or `cluster`.
    public var source: String?
    /// file:line:column: key: what is wrong (or the SecretSync's problem).
    public var error: String

    public init(name: String, source: String? = "file", error: String) {
        self.name = name
        self.source = source
        self.error = error
    }
}

/// `GET /v1/secrets/{name}`.
public struct SecretShowResponse: Codable, Sendable, Equatable {
    public var definition: SecretDefinitionInfo
    public var status: SecretStatusInfo
    /// Who aiosd reads the vault as for it (aiosd.yaml's identity with the definition's overrides), or why
    /// there is no usable identity.
    public var identity: String?
    /// On a node that does not sync (a follower of a multi-node cluster): who does, e.g. "follower (leader: n1)";
    /// `status` is then what the cluster shows (the leader's Secret), not this node's own state.
    public var syncedBy: String?

    public init(definition: SecretDefinitionInfo, status: SecretStatusInfo, identity: String? = nil, syncedBy: String? = nil) {
        self.definition = definition
        self.status = status
        self.identity = identity
        self.syncedBy = syncedBy
    }
}

/// `POST /v1/secrets`: write a definition file (validated first; nothing is written if anything is wrong).
public struct SecretAddRequest: Codable, Sendable, Equatable {
    public var definition: SecretDefinitionInfo
    /// Replace an existing definition of the same name.
    public var replace: Bool

    public init(definition: SecretDefinitionInfo, replace: Bool = false) {
        self.definition = definition
        self.replace = replace
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        definition = try container.decode(SecretDefinitionInfo.self, forKey: .definition)
        replace = try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false
    }
}

public struct SecretAddResponse: Codable, Sendable, Equatable {
    public var file: String
    public var replaced: Bool
    public var definition: SecretDefinitionInfo

    public init(file: String, replaced: Bool, definition: SecretDefinitionInfo) {
        self.file = file
        self.replaced = replaced
        self.definition = definition
    }
}

/// `POST /v1/secrets/{name}/remove`.
public struct SecretRemoveRequest: Codable, Sendable, Equatable {
    /// Also delete the Kubernetes Secret (only if aiosd created it).
    public var deleteTarget: Bool

    public init(deleteTarget: Bool = false) { self.deleteTarget = deleteTarget }

    public init(from decoder: any Decoder) throws {
        deleteTarget = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Bool.self, forKey: .deleteTarget) ?? false
    }
}

public struct SecretRemoveResponse: Codable, Sendable, Equatable {
    /// The file removed on this node; nil when the definition was added on another server (see `cluster`).
    public var file: String?
    /// `NAMESPACE/NAME`.
    public var target: String
    public var targetDeleted: Bool
    /// On a K3s server: how the definition was removed in the cluster (its published copy marked removed).
    public var cluster: String?

    public init(file: String?, target: String, targetDeleted: Bool, cluster: String? = nil) {
        self.file = file
        self.target = target
        self.targetDeleted = targetDeleted
        self.cluster = cluster
    }
}
