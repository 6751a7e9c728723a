import FoundationEssentials

/// Secret sync at a glance, in `GET /v1/status`.
public struct SyncHealth: Codable, Sendable, Equatable {
    /// Definitions synced in the last cycle, those failing now (the last good Secret kept), and those whose
    /// earliest expiry is within 30 days or past.
    public var secrets: Int
    public var failing: Int
    public var expiringSoon: Int
    public var expired: Int
    /// True while a cycle runs.
    public var running: Bool
    public var lastCycle: SyncCycleSummary?
    /// When the schedule runs the next cycle (nil before the first one is scheduled or after shutdown).
    public var nextCycleAt: Date?
    /// Cycles that failed, counting every cycle whatever started it (schedule, `aiosctl sync`, a cluster event, a
    /// retry): in a row up to now (0 after a success), and since aiosd started.
    public var failedCyclesInARow: Int
    public var failedCycles: Int

    public init(secrets: Int, failing: Int, expiringSoon: Int, expired: Int, running: Bool, lastCycle: SyncCycleSummary?,
                nextCycleAt: Date?, failedCyclesInARow: Int = 0, failedCycles: Int = 0) {
        self.failedCyclesInARow = failedCyclesInARow
        self.failedCycles = failedCycles
        self.secrets = secrets
        self.failing = failing
        self.expiringSoon = expiringSoon
        self.expired = expired
        self.running = running
        self.lastCycle = lastCycle
        self.nextCycleAt = nextCycleAt
    }
}

/// One finished sync cycle: when, how long, why it ran, and how each definition fared.
public struct SyncCycleSummary: Codable, Sendable, Equatable {
    public var startedAt: Date
    public var finishedAt: Date
    public var durationSeconds: Double
    /// `schedule`, `api` (aiosctl sync) or `cluster: ...` (a SecretSync changed).
    public var reason: String
    /// `failed` when a definition failed or could not be read.
    public var outcome: CycleOutcome
    /// Definitions by result: applied, unchanged, failed, retained, deleted; and unreadable ones as `invalid`.
    public var results: [String: Int]

    public init(startedAt: Date, finishedAt: Date, durationSeconds: Double, reason: String, outcome: CycleOutcome, results: [String: Int]) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationSeconds = durationSeconds
        self.reason = reason
        self.outcome = outcome
        self.results = results
    }
}

/// Host jobs at a glance: what runs, what waits, and the last one that finished.
public struct HostJobsHealth: Codable, Sendable, Equatable {
    public var running: Int
    public var queued: Int
    public var lastFinished: JobRecord?

    public init(running: Int, queued: Int, lastFinished: JobRecord?) {
        self.running = running
        self.queued = queued
        self.lastFinished = lastFinished
    }
}

/// The watch on the cluster's SecretSync and SecretProviderClass objects.
public struct ClusterWatchHealth: Codable, Sendable, Equatable {
    /// True when aiosd watches the cluster and syncs the SecretSyncs it selects.
    public var watching: Bool
    /// SecretSyncs selected (by `cluster.secretSyncs` and its label).
    public var selected: Int
    /// Why the cluster's objects are not synced, when they are not.
    public var note: String?

    public init(watching: Bool, selected: Int, note: String?) {
        self.watching = watching
        self.selected = selected
        self.note = note
    }
}

/// A sync cycle's outcome.
public enum CycleOutcome: String, Codable, Sendable, CaseIterable {
    case ok, failed
}

/// K3s on this host: is it there and ready, and which service-account issuer is in force.
public struct K3sHealth: Codable, Sendable, Equatable {
    /// A K3s server's admin kubeconfig is readable (`sync.kubeconfig`).
    public var present: Bool
    /// The API server answered `/readyz` with ok (nil when K3s is not present).
    public var ready: Bool?
    /// Why K3s is not present or not ready, or why the issuer could not be read.
    public var note: String?
    /// The first `service-account-issuer` of K3s' configuration (K3s' default when none is set).
    public var configuredIssuer: String?
    /// The first issuer K3s started its API server with (its journal); nil when not found.
    public var runningIssuer: String?
    /// The issuer in force: the API server's `/.well-known/openid-configuration`.
    public var servedIssuer: String?
    /// The configuration differs from what the API server was started with: `aiosctl k3s restart` applies it.
    public var restartPending: Bool

    public init(present: Bool, ready: Bool? = nil, note: String? = nil, configuredIssuer: String? = nil, runningIssuer: String? = nil,
                servedIssuer: String? = nil, restartPending: Bool = false) {
        self.present = present
        self.ready = ready
        self.note = note
        self.configuredIssuer = configuredIssuer
        self.runningIssuer = runningIssuer
        self.servedIssuer = servedIssuer
        self.restartPending = restartPending
    }
}

/// Who aiosd reads the vaults as (aiosd.yaml's `identity`), and for workload identity whether K3s is ready for it.
public struct IdentityHealth: Codable, Sendable, Equatable {
    public enum Method: String, Codable, Sendable, CaseIterable { case workloadIdentity, managedIdentity, clientSecret }

    public var method: Method
    public var clientId: String?
    public var tenantId: String?
    /// Workload identity: the service account whose tokens are exchanged (`NAMESPACE/NAME`).
    public var serviceAccount: String?
    /// Workload identity: the API server serves an issuer other than K3s' default, the one configured first.
    public var enabled: Bool?
    /// Workload identity: the issuer Entra must trust (the one in force).
    public var issuer: String?

    public init(method: Method, clientId: String? = nil, tenantId: String? = nil, serviceAccount: String? = nil, enabled: Bool? = nil,
                issuer: String? = nil) {
        self.method = method
        self.clientId = clientId
        self.tenantId = tenantId
        self.serviceAccount = serviceAccount
        self.enabled = enabled
        self.issuer = issuer
    }
}
