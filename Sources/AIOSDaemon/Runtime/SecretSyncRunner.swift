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
        var clusterCyclePending = false
        var controller: (checkedAt: Date, presence: String?)?
        var lastCycle: SyncCycleSummary?
        var nextCycleAt: Date?
    }

    /// The cluster's SecretSync objects (started on first use unless `cluster.secretSyncs` is `off`).
    private let cluster = Mutex<ClusterSyncSource?>(nil)

    init(engine: SecretSyncEngine, logger: Logger, configuration: @escaping @Sendable () -> AgentConfiguration) {
        self.engine = engine
        self.logger = logger
        self.configuration = configuration
    }

    /// Every definition in force: the files in secrets.d and the selected SecretSyncs of the cluster.
    struct Definitions {
        var all: [SyncDefinition] = []
        var invalidFiles: [(name: String, error: ConfigurationError)] = []
        /// Selected SecretSyncs that cannot be used, and why (their status says so too).
        var invalidCluster: [(sync: ClusterObjects.SecretSync, issue: SyncIssue)] = []
        /// The selected SecretSyncs (valid or not): the ones whose status aiosd writes.
        var selectedSyncs: [ClusterObjects.SecretSync] = []
        /// Why cluster objects are not synced, if they are not (controller running, CRDs missing, switched off).
        var clusterNote: String?
    }

    func allDefinitions(checkController: Bool = false) -> Definitions {
        let files = definitions()
        var result = Definitions(all: files.definitions, invalidFiles: files.invalid)
        let configuration = configuration()
        guard configuration.cluster.secretSyncs != .off else {
            result.clusterNote = "cluster SecretSyncs are not synced (cluster.secretSyncs: off)"
            return result
        }
        // No kubeconfig, no K3s on this host: no watch threads waking up to find that out again and again.
        guard cluster.withLock({ $0 != nil }) || FileManager.default.fileExists(atPath: configuration.sync.kubeconfig) else {
            result.clusterNote = "no Kubernetes API server known (\(configuration.sync.kubeconfig) does not exist)"
            return result
        }
        let source = clusterSource()
        let snapshot = source.snapshot
        guard snapshot.available else {
            result.clusterNote = snapshot.lastError.map { "cluster SecretSyncs unavailable: \($0)" }
                ?? "the SecretSync and SecretProviderClass CRDs are not installed (or not yet listed)"
            return result
        }
        if let presence = controllerPresence(check: checkController) {
            result.clusterNote = "the Secret Synchronization Controller runs in the cluster (\(presence)); aiosd leaves SecretSync objects to it"
            return result
        }
        let selection = configuration.cluster
        for sync in snapshot.secretSyncs {
            guard selection.secretSyncs == .all || sync.labels[selection.selectorKey] == selection.selectorValue else { continue }
            result.selectedSyncs.append(sync)
            let providerClass = sync.secretProviderClassName.flatMap { snapshot.providerClasses["\(sync.namespace)/\($0)"] }
            do {
                result.all.append(try ClusterObjects.definition(sync, providerClass: providerClass))
            } catch {
                result.invalidCluster.append((sync, error))
            }
        }
        return result
    }

    /// SecretSyncs the cluster has that the selection (`cluster.secretSyncs` and its label) leaves out, as
    /// `namespace/name`; empty when the cluster is not watched.
    func unselectedSecretSyncs() -> [String] {
        guard let source = cluster.withLock({ $0 }) else { return [] }
        let selection = configuration().cluster
        return source.snapshot.secretSyncs.filter { sync in
            selection.secretSyncs == .off || (selection.secretSyncs == .labelled && sync.labels[selection.selectorKey] != selection.selectorValue)
        }.map(\.key).sorted()
    }

    private func clusterSource() -> ClusterSyncSource {
        cluster.withLock { existing in
            if let existing { return existing }
            let engine = self.engine, configuration = self.configuration
            let source = ClusterSyncSource(kubernetes: { try engine.connections.kubernetes(configuration: configuration().sync) },
                                           logger: logger, onChange: { [weak self] reason in self?.clusterChanged(reason) })
            source.start()
            existing = source
            return source
        }
    }

    /// The controller's presence: looked up at the start of every cycle; other callers see the last answer.
    private func controllerPresence(check: Bool) -> String? {
        let cached = progress.withLock { $0.controller }
        if let cached, !check { return cached.presence }
        guard let client = try? engine.connections.kubernetes(configuration: configuration().sync) else { return cached?.presence }
        let presence = ClusterSyncSource.controllerPresence(client)
        progress.withLock { $0.controller = (Date(), presence) }
        if presence != cached?.presence {
            if let presence {
                logger.warning("Secret Synchronization Controller detected; aiosd leaves SecretSync objects to it", metadata: ["controller": "\(presence)"])
            }
        }
        return presence
    }

    /// A SecretSync or SecretProviderClass changed: sync soon (changes arriving together share one cycle).
    func clusterChanged(_ reason: String) {
        let schedule = progress.withLock { p -> Bool in
            if p.clusterCyclePending { return false }
            p.clusterCyclePending = true
            return true
        }
        guard schedule else { return }
        Task {
            try? await Task.sleep(for: .milliseconds(500))
            progress.withLock { $0.clusterCyclePending = false }
            _ = await cycle(force: false, reason: "cluster: \(reason)")
        }
    }

    var isRunning: Bool { progress.withLock { $0.running } }
    var lastCycle: SyncCycleSummary? { progress.withLock { $0.lastCycle } }
    /// When the schedule runs the next cycle; set by the sync service.
    var nextCycleAt: Date? {
        get { progress.withLock { $0.nextCycleAt } }
        set { progress.withLock { $0.nextCycleAt = newValue } }
    }

    /// Ends the cluster watches (their threads finish their current request).
    func stopWatching() { cluster.withLock { $0?.stop() } }

    /// The definitions in secrets.d, read fresh: an edit by hand counts at the next cycle.
    func definitions() -> SyncDefinitionDirectory.Loaded { directory.load() }

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
                let configuration = configuration()
                handleDeletedSecretSyncs(configuration)
                let loaded = allDefinitions(checkController: true)
                onStart(loaded.all.count)
                var invalid = loaded.invalidFiles.map { "\($0.error)" }
                invalid += loaded.invalidCluster.map { "\($0.issue.message)" }
                for entry in loaded.invalidFiles {
                    logger.error("Secret definition refused; left alone", metadata: ["secret": "\(entry.name)", "error": "\(entry.error)"])
                }
                for entry in loaded.invalidCluster {
                    logger.error("SecretSync refused; left alone", metadata: ["secret": "\(entry.sync.key)", "error": "\(entry.issue.message)"])
                }
                logger.info("Secret sync started", metadata: [
                    "sync.reason": "\(reason)", "sync.definitions": "\(loaded.all.count)", "sync.force": "\(force)",
                ])
                let report = engine.run(definitions: loaded.all, invalid: invalid, force: force, configuration: configuration,
                                        progress: onResult)
                writeStatuses(loaded, configuration: configuration)
                let counts = Dictionary(grouping: report.outcomes, by: \.result).mapValues(\.count)
                logger.notice("Secret sync finished", metadata: [
                    "sync.reason": "\(reason)",
                    "sync.applied": "\(counts[.applied] ?? 0)", "sync.unchanged": "\(counts[.unchanged] ?? 0)",
                    "sync.failed": "\(counts[.failed] ?? 0)", "sync.retained": "\(counts[.retained] ?? 0)",
                    "sync.deleted": "\(counts[.deleted] ?? 0)", "sync.invalid": "\(invalid.count)",
                    "sync.vault_requests": "\(report.vaultRequests)", "sync.kubernetes_requests": "\(report.kubernetesRequests)",
                    "duration_ms": "\(Int(report.finishedAt.timeIntervalSince(report.startedAt) * 1000))",
                ])
                let summary = SyncHealthReport.summary(report, reason: reason)
                MetricsExposition.record(summary)
                progress.withLock {
                    $0.running = false
                    $0.lastCycle = summary
                }
                continuation.resume(returning: report)
            }
        }
    }

    /// SecretSyncs deleted from the cluster: their Secrets go with them (policy `delete`, like the controller's
    /// owner reference) or stay, no longer synced (`retain`).
    private func handleDeletedSecretSyncs(_ configuration: AgentConfiguration) {
        guard let source = cluster.withLock({ $0 }) else { return }
        for sync in source.drainRemoved() {
            guard engine.status(sync.key) != nil else { continue }  // never synced by aiosd
            if configuration.cluster.onSecretSyncDeleted == .delete {
                let origin = SyncDefinition.ClusterOrigin(namespace: sync.namespace, secretSync: sync.name,
                                                          secretProviderClass: sync.secretProviderClassName ?? "", uid: sync.uid,
                                                          generation: sync.generation, resourceVersion: sync.resourceVersion)
                let definition = SyncDefinition(name: sync.key, source: .cluster(origin), keyvaultName: "", objects: [],
                                                target: TargetSecret(namespace: sync.namespace, name: sync.name))
                do {
                    let deleted = try engine.deleteTarget(of: definition, configuration: configuration)
                    logger.notice("SecretSync deleted; its Secret deleted", metadata: ["secret": "\(sync.key)", "target_deleted": "\(deleted)"])
                } catch {
                    logger.warning("SecretSync deleted; its Secret could not be deleted", metadata: ["secret": "\(sync.key)", "error": "\(error)"])
                }
            } else {
                logger.notice("SecretSync deleted; its Secret is kept (cluster.onSecretSyncDeleted: retain)", metadata: ["secret": "\(sync.key)"])
            }
            engine.forget(sync.key)
        }
    }

    /// Writes each selected SecretSync's status where it changed.
    private func writeStatuses(_ loaded: Definitions, configuration: AgentConfiguration) {
        guard !loaded.selectedSyncs.isEmpty, let client = try? engine.connections.kubernetes(configuration: configuration.sync),
              let hasher = try? engine.contentHasher() else { return }
        let invalid = Dictionary(loaded.invalidCluster.map { ($0.sync.key, $0.issue) }, uniquingKeysWith: { $1 })
        for sync in loaded.selectedSyncs {
            let desired = ClusterStatus.desired(for: sync, status: engine.status(sync.key), invalid: invalid[sync.key], hasher: hasher)
            guard ClusterStatus.differs(desired, from: sync) else { continue }
            do {
                try client.patchStatus(path: ClusterObjects.secretSyncPath(namespace: sync.namespace, name: sync.name), status: desired)
            } catch {
                logger.warning("Cannot write the SecretSync's status", metadata: ["secret": "\(sync.key)", "error": "\(error)"])
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
