import FoundationEssentials

/// What `aiosctl doctor` looked at on this host, gathered by aiosd; `Doctor.findings` judges it. Optional facts
/// are nil when they could not be looked at (an earlier check failed).
public struct DoctorFacts: Sendable {
    public var configPath: String
    /// Why aiosd.yaml (as on disk now) is invalid; nil when valid.
    public var configError: String?
    /// Definition files in secrets.d that cannot be read (file:line: message).
    public var invalidDefinitions: [String] = []

    public var kubeconfigPath: String
    /// Why the kubeconfig cannot be used; nil when it can (K3s is installed).
    public var kubeconfigError: String?
    /// `/readyz` answered ok.
    public var apiServerReady: Bool?

    /// The first `service-account-issuer` K3s is configured with (nil: K3s' default) and where it is set.
    public var configuredIssuer: String?
    public var servedIssuer: String?
    public var servedIssuerError: String?
    /// `service-account-max-token-expiration` as configured, nil when not set.
    public var maxTokenExpiration: String?
    /// The issuers K3s started its API server with (its `Running kube-apiserver` journal line, as the K3s change
    /// workflow reads it); nil when K3s' journal has no such line.
    public var runningIssuers: [String]?
    /// The issuer's OIDC discovery document fetched from the issuer URL itself over HTTPS, as Entra ID fetches it.
    public var discovery: DiscoveryOutcome?

    /// The Arc resource of this cluster (Arc's `azure-clusterconfig` ConfigMap), nil when the cluster is not Arc-connected
    /// or it could not be read; and the issuer Azure reports for it (read with the host's managed identity), or why not.
    public var arcCluster: ArcCluster?
    public var azureIssuer: String?
    public var azureIssuerError: String?

    /// The Secret Store extension's controller in the cluster (`Deployment NS/NAME` or `Lease ...`), nil when absent;
    /// `secretStoreChecked` false when the API server could not be asked.
    public var secretStoreExtension: String?
    public var secretStoreChecked = false

    /// Where `aiosctl secret add` writes definitions (`sync.definitions`).
    public var definitionsDirectory = "/etc/aios/secrets.d"
    /// Directories aiosd must write, each with why it cannot (nil: it can), tried from inside aiosd's sandbox.
    public var writable: [WriteOutcome] = []

    public var identity: IdentityConfiguration
    /// For workload identity: whether the service account exists (nil: not looked up), or why it could not be.
    public var serviceAccountExists: Bool?
    public var serviceAccountError: String?
    /// The Entra exchange for a Key Vault token: the identity's object id on success, the issue on failure.
    public var token: TokenOutcome?
    /// The vaults the definitions use, each listed once.
    public var vaults: [VaultOutcome] = []

    /// Local clock minus Entra's `Date` header, seconds; or why Entra could not be asked.
    public var clockSkewSeconds: Double?
    public var clockError: String?

    public var stateDirectory: String
    public var freeBytes: UInt64?

    /// SecretSyncs in the cluster that the selection leaves out (`namespace/name`), and the selection.
    public var unselectedSecretSyncs: [String] = []
    public var secretSyncSelection: ClusterSyncConfiguration

    public enum DiscoveryOutcome: Sendable, Equatable {
        /// 200 with a JSON document: its `issuer` and `jwks_uri`.
        case served(issuer: String?, jwksURI: String?)
        /// Another HTTP status.
        case status(Int)
        /// Not reachable from this host (DNS, TLS, timeout): Entra ID may still reach it.
        case unreachable(String)
    }

    public struct WriteOutcome: Sendable, Equatable {
        public var path: String
        public var error: String?

        public init(path: String, error: String?) {
            self.path = path
            self.error = error
        }
    }

    public enum TokenOutcome: Sendable, Equatable {
        case issued(objectId: String?)
        case failed(SyncIssue)
    }

    public struct VaultOutcome: Sendable, Equatable {
        public var vault: String
        /// nil: listed; otherwise why not.
        public var issue: SyncIssue?

        public init(vault: String, issue: SyncIssue?) {
            self.vault = vault
            self.issue = issue
        }
    }

    public init(configPath: String, kubeconfigPath: String, identity: IdentityConfiguration, stateDirectory: String,
                secretSyncSelection: ClusterSyncConfiguration) {
        self.configPath = configPath
        self.kubeconfigPath = kubeconfigPath
        self.identity = identity
        self.stateDirectory = stateDirectory
        self.secretSyncSelection = secretSyncSelection
    }
}
