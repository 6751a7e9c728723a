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
    /// `ok` or `failed` (a definition failed or could not be read).
    public var outcome: String
    /// Definitions by result: applied, unchanged, failed, retained, deleted; and unreadable ones as `invalid`.
    public var results: [String: Int]

    public init(startedAt: Date, finishedAt: Date, durationSeconds: Double, reason: String, outcome: String, results: [String: Int]) {
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
