import FoundationEssentials

/// `GET /v1/status`: what the daemon is, where it listens, and how each of its services is doing.
public struct StatusResponse: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int32
    public var startedAt: Date
    public var uptimeSeconds: Double
    public var configPath: String
    /// When the configuration in force was loaded, and the outcome of the last reload attempt.
    public var configLoadedAt: Date
    public var lastReload: ReloadOutcome?
    public var socketPath: String
    /// True when the socket came from systemd socket activation (aiosd.socket).
    public var socketActivated: Bool
    public var underSystemd: Bool
    /// The watchdog interval systemd expects pings within, if enabled.
    public var watchdogSeconds: Double?
    public var services: [ServiceStatus]
    /// Health: secret sync, the cluster watch, host jobs (nil from a daemon that does not report them).
    public var sync: SyncHealth?
    public var clusterWatch: ClusterWatchHealth?
    public var hostJobs: HostJobsHealth?
    /// K3s on this host and the issuer in force; the identity aiosd reads the vaults as.
    public var k3s: K3sHealth?
    public var workloadIdentity: IdentityHealth?
    /// This node's K3s role and sync role (leader, follower, not a candidate).
    public var cluster: NodeClusterRole?

    public init(version: String, pid: Int32, startedAt: Date, uptimeSeconds: Double, configPath: String,
                configLoadedAt: Date, lastReload: ReloadOutcome?, socketPath: String, socketActivated: Bool,
                underSystemd: Bool, watchdogSeconds: Double?, services: [ServiceStatus], sync: SyncHealth? = nil,
                clusterWatch: ClusterWatchHealth? = nil, hostJobs: HostJobsHealth? = nil, k3s: K3sHealth? = nil,
                workloadIdentity: IdentityHealth? = nil, cluster: NodeClusterRole? = nil) {
        self.k3s = k3s
        self.workloadIdentity = workloadIdentity
        self.cluster = cluster
        self.sync = sync
        self.clusterWatch = clusterWatch
        self.hostJobs = hostJobs
        self.version = version
        self.pid = pid
        self.startedAt = startedAt
        self.uptimeSeconds = uptimeSeconds
        self.configPath = configPath
        self.configLoadedAt = configLoadedAt
        self.lastReload = lastReload
        self.socketPath = socketPath
        self.socketActivated = socketActivated
        self.underSystemd = underSystemd
        self.watchdogSeconds = watchdogSeconds
        self.services = services
    }
}

public struct ServiceStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case starting, running, stopping, stopped, failed, disabled }

    public var name: String
    public var state: State
    /// One line on what the service is doing or why it failed.
    public var detail: String?

    public init(name: String, state: State, detail: String? = nil) {
        self.name = name
        self.state = state
        self.detail = detail
    }
}

public struct ReloadOutcome: Codable, Sendable, Equatable {
    public var at: Date
    public var accepted: Bool
    /// Why a new configuration was refused (file, line and key).
    public var error: String?

    public init(at: Date, accepted: Bool, error: String? = nil) {
        self.at = at
        self.accepted = accepted
        self.error = error
    }
}
