/// aiosd's configuration, as loaded from `/etc/aios/aiosd.yaml`. Every field has a default, so a missing
/// file means a working agent.
public struct AgentConfiguration: Sendable, Equatable {
    public var control = ControlConfiguration()
    public var k3s = K3sAgentConfiguration()
    public var identity = IdentityConfiguration()
    public var sync = SyncConfiguration()
    /// What an operator's `secret add` may target.
    public var secrets = SecretsPolicyConfiguration()
    public var cluster = ClusterSyncConfiguration()
    public var metrics = MetricsConfiguration()
    public var network = NetworkConfiguration()
    public var logLevel: LogLevel = .info
    /// How long a graceful shutdown (SIGTERM) may take before aiosd exits anyway.
    public var shutdownTimeout: Duration = .seconds(10)

    public init() {}

    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
}

public struct NetworkConfiguration: Sendable, Equatable {
    /// The HTTP(S) proxy for Entra ID and Key Vault (`http://host:port`); nil: they are reached directly. The
    /// environment's `https_proxy` is never used, and IMDS, Azure Arc and the K3s API server never go through one.
    public var proxy: String?

    public init() {}
}

public struct ControlConfiguration: Sendable, Equatable {
    /// Where aiosd binds the control socket when not socket-activated (`--socket` overrides).
    public var socket = "/run/aiosd/aiosd.sock"
    /// Group owning the socket it binds itself (mode 0660).
    public var socketGroup = "aios"
    /// Members of this group are operators: sync, secret definitions within `secrets:`, workload identity,
    /// K3s restart, daemon-reload and the operator allow-list of kube-apiserver flags.
    public var adminGroup = "aios"
    /// Members of this group count as root towards aiosd (every kube-apiserver flag, unbounded secret targets);
    /// none by default: only uid 0.
    public var k3sAdminGroup: String?
    public var maxConnections = 64
    /// A client must send its request head within this time.
    public var headerTimeout: Duration = .seconds(5)
    /// After its head, a client must send the request body within this time.
    public var bodyTimeout: Duration = .seconds(10)
    /// A connection with no traffic for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    public var maxBodyBytes = 1 << 20

    public init() {}
}

public struct MetricsConfiguration: Sendable, Equatable {
    /// Where to serve `GET /metrics` over TCP for a Prometheus scraper; nil (the default) serves none. The
    /// control socket's `GET /v1/metrics` is always there.
    public var listen: MetricsListenAddress?

    public init() {}
}

/// An IP address and port; the address defaults to loopback (a bare port is 127.0.0.1:PORT).
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `PORT`, `IPV4:PORT` or `[IPV6]:PORT`; nil for anything else (host names too: the address is bound, not resolved).
    public init?(parsing text: String) {
        let host: String, portText: Substring
        if let colon = text.lastIndex(of: ":") {
            var address = text[..<colon]
            portText = text[text.index(after: colon)...]
            if address.hasPrefix("[") && address.hasSuffix("]") {
                address = address.dropFirst().dropLast()
                guard address.contains(":"), address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            } else {
                let octets = address.split(separator: ".", omittingEmptySubsequences: false)
                guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && Int($0).map { $0 <= 255 } == true })
                else { return nil }
            }
            host = String(address)
        } else {
            host = "127.0.0.1"
            portText = Substring(text)
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (1...65535).contains(port)
        else { return nil }
        self.host = host
        self.port = port
    }

    public var isLoopback: Bool { host.hasPrefix("127.") || host == "::1" }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct K3sAgentConfiguration: Sendable, Equatable {
    /// How long aiosd waits for K3s' API server to answer /readyz after a restart before it rolls back.
    public var readyTimeout: Duration = .seconds(300)

    public init() {}
}

extension AgentConfiguration {
    /// Settings that only take effect when aiosd restarts; a reload reports which of them changed.
    public func settingsNeedingRestart(comparedTo old: AgentConfiguration) -> [String] {
        var names: [String] = []
        if control.socket != old.control.socket { names.append("control.socket") }
        if metrics.listen != old.metrics.listen { names.append("metrics.listen") }
        if control.socketGroup != old.control.socketGroup { names.append("control.socketGroup") }
        if control.maxConnections != old.control.maxConnections { names.append("control.maxConnections") }
        if control.headerTimeout != old.control.headerTimeout { names.append("control.headerTimeout") }
        if control.bodyTimeout != old.control.bodyTimeout { names.append("control.bodyTimeout") }
        if control.idleTimeout != old.control.idleTimeout { names.append("control.idleTimeout") }
        if control.maxBodyBytes != old.control.maxBodyBytes { names.append("control.maxBodyBytes") }
        if shutdownTimeout != old.shutdownTimeout { names.append("shutdownTimeout") }
        return names
    }
}

/// Who aiosd is towards Entra ID when it reads Key Vault.
public struct IdentityConfiguration: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// A Kubernetes service-account token (TokenRequest) exchanged for an Entra token (federated credential).
        case workloadIdentity
        /// An app registration's client secret, read from a root-owned 0600 file.
        case clientSecret
        /// The machine's managed identity: Azure IMDS, or the Azure Arc agent's local endpoint.
        case managedIdentity
    }

    public enum ManagedIdentityEndpoint: String, Sendable, CaseIterable { case imds, arc }

    public var method: Method = .workloadIdentity
    public var tenantId: String?
    /// The user-assigned identity's (or app's) client id.
    public var clientId: String?
    public var serviceAccount = ServiceAccountReference(namespace: "azure-iot-operations", name: "aio-ssc-sa")
    public var clientSecretFile = "/etc/aios/client-secret"
    public var managedIdentityEndpoint: ManagedIdentityEndpoint = .imds
    public var authorityHost = "https://login.microsoftonline.com"

    public init() {}
}

/// When and how secrets are synced.
public struct SyncConfiguration: Sendable, Equatable {
    public enum DeletedInVaultPolicy: String, Sendable, CaseIterable {
        /// Keep the last good Secret and report the object as gone.
        case retain
        /// Delete the Secret (only ever one aiosd created).
        case delete
    }

    public var interval: Duration = .seconds(3600)
    /// Each scheduled sync starts up to this much later, at random, so a fleet does not poll in step.
    public var jitter: Duration = .seconds(60)
    public var deletedInVault: DeletedInVaultPolicy = .retain
    public var definitions = "/etc/aios/secrets.d"
    public var defaultNamespace = "azure-iot-operations"
    public var kubeconfig = "/etc/rancher/k3s/k3s.yaml"
    /// Key Vault reads in flight at once.
    public var concurrency = 8
    /// Key Vault requests per vault in any `vaultRequestWindow`, all syncs of this host together: Key Vault's own
    /// limit (4,000 per 10 s) by default, so a first sync runs as fast as the vault allows; lower it to leave a
    /// share to other clients of the vault (a 429 from their traffic is backed off 1, 2, 4, 8, 16 s).
    public var vaultRequestLimit = KeyVaultRequestBudget.serviceLimit
    public var vaultRequestWindow = KeyVaultRequestBudget.serviceWindow
    /// After a failed sync, the next attempt comes after this (doubling up to the interval).
    public var retryAfterFailure: Duration = .seconds(30)

    public init() {}
}

/// Which of the cluster's SecretSync objects aiosd syncs (the Secret Synchronization Controller's objects).
public struct ClusterSyncConfiguration: Sendable, Equatable {
    public enum Selection: String, Sendable, CaseIterable {
        /// Only SecretSyncs labelled `selectorLabel` (default): taking over is an explicit decision.
        case labelled
        /// Every SecretSync in the cluster.
        case all
        /// None: only /etc/aios/secrets.d.
        case off
    }

    public enum DeletedPolicy: String, Sendable, CaseIterable {
        /// Delete the Secret aiosd created for it (what the controller's owner reference does).
        case delete
        /// Keep it, no longer synced.
        case retain
    }

    public var secretSyncs: Selection = .labelled
    /// `KEY=VALUE` a SecretSync must carry with `secretSyncs: labelled`.
    public var selectorLabel = "aios.microsoft.com/agent=aiosd"
    public var onSecretSyncDeleted: DeletedPolicy = .delete
    /// Namespaces whose SecretSyncs aiosd may sync; nil = every namespace (each SecretSync is fetched as
    /// workload identity of its own service account, so the federated credential is the boundary).
    public var allowedNamespaces: Set<String>?
    /// This node's name in the cluster (its heartbeat Lease, its identity in the sync election); nil: the host
    /// name, K3s' default node name.
    public var nodeName: String?
    /// One syncer per cluster: who competes for the sync Lease, and how fast leadership moves.
    public var leaderElection = LeaderElectionSettings()

    public init() {}

    /// True when SecretSyncs in `namespace` may be synced.
    public func allows(namespace: String) -> Bool { allowedNamespaces?.contains(namespace) ?? true }

    public var selectorKey: String { String(selectorLabel.split(separator: "=", maxSplits: 1).first ?? "") }
    public var selectorValue: String { String(selectorLabel.split(separator: "=", maxSplits: 1).dropFirst().first ?? "") }

    /// The SecretSyncs (`NAMESPACE/NAME`, sorted) this selection leaves out.
    public func unselected(_ syncs: some Sequence<ClusterObjects.SecretSync>) -> [String] {
        syncs.filter { secretSyncs == .off || (secretSyncs == .labelled && $0.labels[selectorKey] != selectorValue) }.map(\.key).sorted()
    }
}
