import AIOSAPI
import AIOSCore
import Dispatch
import Foundation
import Logging
import Synchronization

/// Runs sync cycles one at a time on a thread of their own (Key Vault and API server calls block), for the
/// schedule and for `POST /v1/sync`. A request that arrives while a cycle runs waits for the next one, which
/// starts right after; requests that pile up share it.
public final class SecretSyncRunner: Sendable {
    private let queue = DispatchQueue(label: "aiosd.secret-sync")
    let engine: SecretSyncEngine
    let logger: Logger
    let configuration: @Sendable () -> AgentConfiguration
    private let progress = Mutex<Progress>(Progress())

    struct Progress {
        var running = false
        var lastReport: SyncCycleReport?
        var nextScheduled: Date?
    }

    init(engine: SecretSyncEngine, logger: Logger, configuration: @escaping @Sendable () -> AgentConfiguration) {
        self.engine = engine
        self.logger = logger
        self.configuration = configuration
    }

    var lastReport: SyncCycleReport? { progress.withLock { $0.lastReport } }
    var isRunning: Bool { progress.withLock { $0.running } }
    var nextScheduled: Date? {
        get { progress.withLock { $0.nextScheduled } }
        set { progress.withLock { $0.nextScheduled = newValue } }
    }

    /// The definitions in secrets.d, read fresh: an edit by hand counts at the next cycle.
    func definitions() -> SyncDefinitionDirectory.Loaded {
        let sync = configuration().sync
        return SyncDefinitionDirectory(path: sync.definitions, defaultNamespace: sync.defaultNamespace).load()
    }

    var directory: SyncDefinitionDirectory {
        let sync = configuration().sync
        return SyncDefinitionDirectory(path: sync.definitions, defaultNamespace: sync.defaultNamespace)
    }

    /// Runs one cycle on the sync queue; `onResult` sees each definition's outcome as it is known.
    func cycle(force: Bool, reason: String, onStart: @escaping @Sendable (Int) -> Void = { _ in },
               onResult: @escaping @Sendable (SyncOutcome) -> Void = { _ in }) async -> SyncCycleReport {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                progress.withLock { $0.running = true }
                let loaded = definitions()
                onStart(loaded.definitions.count)
                let invalid = loaded.invalid.map { "\($0.error)" }
                for entry in loaded.invalid {
                    logger.error("Secret definition refused; left alone", metadata: ["secret": "\(entry.name)", "error": "\(entry.error)"])
                }
                logger.info("Secret sync started", metadata: [
                    "sync.reason": "\(reason)", "sync.definitions": "\(loaded.definitions.count)", "sync.force": "\(force)",
                ])
                let report = engine.run(definitions: loaded.definitions, invalid: invalid, force: force, configuration: configuration(),
                                        progress: onResult)
                let counts = Dictionary(grouping: report.outcomes, by: \.result).mapValues(\.count)
                logger.notice("Secret sync finished", metadata: [
                    "sync.reason": "\(reason)",
                    "sync.applied": "\(counts[.applied] ?? 0)", "sync.unchanged": "\(counts[.unchanged] ?? 0)",
                    "sync.failed": "\(counts[.failed] ?? 0)", "sync.retained": "\(counts[.retained] ?? 0)",
                    "sync.deleted": "\(counts[.deleted] ?? 0)", "sync.invalid": "\(invalid.count)",
                    "sync.vault_requests": "\(report.vaultRequests)", "sync.kubernetes_requests": "\(report.kubernetesRequests)",
                    "duration_ms": "\(Int(report.finishedAt.timeIntervalSince(report.startedAt) * 1000))",
                ])
                progress.withLock {
                    $0.running = false
                    $0.lastReport = report
                }
                continuation.resume(returning: report)
            }
        }
    }

    /// Runs `body` on the sync queue, between cycles (definition edits and removals).
    func exclusive<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        let result: Result<T, APIError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(APIError) -> T in try body() }) }
        }
        return try result.get()
    }
}
