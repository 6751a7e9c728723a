import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization

/// Runs sync cycles one at a time on a thread of their own (Key Vault and API server calls block), for the
/// schedule and for `POST /v1/sync`. A request that arrives while a cycle runs waits for the next one, which
/// starts right after; requests that pile up share it.
public final class SecretSyncRunner: Sendable {
    /// One thread: cycles and definition edits run one at a time, in the order they were asked for.
    private let lane = BlockingPool(threads: 1)
    /// Cycles started later (a retry after a failure, a cluster change) run as its children.
    let tasks: TaskSupervisor
    /// Announces the cluster source once it exists; `ClusterWatchService` runs its watches.
    let clusterSources: AsyncStream<ClusterSyncSource>
    private let clusterSourceCreated: AsyncStream<ClusterSyncSource>.Continuation
    let engine: SecretSyncEngine
    let logger: Logger
    let configuration: @Sendable () -> AgentConfiguration
    private let progress = Mutex<Progress>(Progress())

    struct Progress {
        var running = false
        var clusterCyclePending = false
        var controller: (checkedAt: Date, presence: String?)?
        /// Secrets of SecretSyncs deleted while aiosd was stopped were looked for (once per start).
        var orphansReconciled = false
        /// Failed cycles in a row, whatever started them (schedule, `aiosctl sync`, a watch event, a reload, a retry):
        /// the backoff of the schedule and of retries, and what `status` reports. Reset by a cycle that succeeds.
        var failedCyclesInARow = 0
        /// Failed cycles since aiosd started, whatever started them.
        var failedCycles = 0
        var retryPending = false
        var lastCycle: SyncCycleSummary?
        var nextCycleAt: Date?
    }

    /// Told of every finished cycle (the sync service keeps its status line current with it).
    private let cycleFinished = Mutex<(@Sendable (SyncCycleReport, String) -> Void)?>(nil)
    private let scheduleChanged = Mutex<(@Sendable () -> Void)?>(nil)

    /// The cluster's SecretSync objects (started on first use unless `cluster.secretSyncs` is `off`).
    private let cluster = Mutex<ClusterSyncSource?>(nil)

    /// Who syncs in a cluster (nil in tests of a lone runner: this one always does).
    let election: SyncElection?
    /// Definition files published by every node (nil: this node's files only).
    let publisher: DefinitionPublisher?

    init(engine: SecretSyncEngine, logger: Logger, tasks: TaskSupervisor, configuration: @escaping @Sendable () -> AgentConfiguration,
         election: SyncElection? = nil, publisher: DefinitionPublisher? = nil) {
        self.election = election
        self.publisher = publisher
        self.engine = engine
        self.logger = logger
        self.tasks = tasks
        self.configuration = configuration
        (clusterSources, clusterSourceCreated) = AsyncStream.makeStream(of: ClusterSyncSource.self, bufferingPolicy: .bufferingNewest(1))
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
        /// Set when the SecretSyncs could not be read at all (the API server failed before the first list).
        var clusterUnreadable: String?
    }

    func allDefinitions(checkController: Bool = false) -> Definitions {
        let files = definitionsInForce()
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
        // A cycle (not a `secret list`) right after start waits briefly for the first list of SecretSyncs.
        if checkController {
            source.waitForFirstAnswer(timeout: 10)
            if !source.snapshot.available, source.snapshot.lastError != nil { source.retryNow(timeout: 5) }
        }
        let snapshot = source.snapshot
        guard snapshot.available else {
            result.clusterNote = snapshot.lastError.map { "cluster SecretSyncs unavailable: \($0)" }
                ?? "the SecretSync and SecretProviderClass CRDs are not installed (or not yet listed)"
            result.clusterUnreadable = snapshot.lastError
            return result
        }
        if let presence = controllerPresence(check: checkController) {
            result.clusterNote = "the Secret Store extension (Secret Synchronization Controller) runs in the cluster (\(presence)); aiosd stands down for SecretSyncs and leaves them to it"
            return result
        }
        let selection = configuration.cluster
        for sync in snapshot.secretSyncs {
            guard selection.secretSyncs == .all || sync.labels[selection.selectorKey] == selection.selectorValue else { continue }
            result.selectedSyncs.append(sync)
            let providerClass = sync.secretProviderClassName.flatMap { snapshot.providerClasses["\(sync.namespace)/\($0)"] }
            do {
                var definition = try ClusterObjects.definition(sync, providerClass: providerClass, allowedNamespaces: selection.allowedNamespaces)
                if selection.onSecretSyncDeleted == .retain, case .cluster(var origin) = definition.source {
                    // No ownerReference: the garbage collector must not delete what `retain` keeps. (The definition
                    // changes with the policy, so a reload rewrites existing Secrets without it.)
                    origin.ownedBySecretSync = false
                    definition.source = .cluster(origin)
                }
                result.all.append(definition)
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
        return configuration().cluster.unselected(source.snapshot.secretSyncs)
    }

    private func clusterSource() -> ClusterSyncSource {
        cluster.withLock { existing in
            if let existing { return existing }
            let engine = self.engine, configuration = self.configuration
            let source = ClusterSyncSource(kubernetes: { try engine.connections.kubernetes(configuration: configuration().sync) },
                                           logger: logger, onChange: { [weak self] reason in self?.clusterChanged(reason) })
            clusterSourceCreated.yield(source)
            clusterSourceCreated.finish()
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
                logger.warning("Secret Store extension detected; aiosd stands down for SecretSyncs", metadata: ["controller": "\(presence)"])
            } else if cached?.presence != nil {
                logger.notice("Secret Store extension gone; aiosd syncs SecretSyncs again", metadata: ["controller": "\(cached?.presence ?? "")"])
            }
        }
        return presence
    }

    /// A failed cycle the schedule did not start (`aiosctl sync`, a watch event, a reload) is retried after
    /// `sync.retryAfterFailure`, doubling up to `sync.interval`, like a scheduled one; a success stops that.
    private func retryIfFailed(_ report: SyncCycleReport, configuration: AgentConfiguration) {
        let failures = progress.withLock { p -> Int? in
            guard report.failed, !p.retryPending else { return nil }
            p.retryPending = true
            return p.failedCyclesInARow
        }
        guard let failures else { return }
        let delay = SecretSyncService.nextDelay(failures: failures, sync: configuration.sync)
        logger.notice("Secret sync failed; retrying", metadata: ["sync.retry_in": "\(DurationParser.format(delay))"])
        tasks.spawn { [self] in
            // A shutdown does not wait for a retry that has not started.
            guard (try? await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }) != nil else { return }
            progress.withLock { $0.retryPending = false }
            _ = try? await cycle(force: false, reason: "retry after failure")
        }
    }

    /// A reload that changes which SecretSyncs are selected (or how) takes effect at once, not at the next cycle;
    /// one that changes the schedule makes the sync service measure its current wait with the new values.
    func configurationChanged(from old: AgentConfiguration, to new: AgentConfiguration) {
        if old.sync.interval != new.sync.interval || old.sync.jitter != new.sync.jitter
            || old.sync.retryAfterFailure != new.sync.retryAfterFailure {
            scheduleChanged.withLock { $0 }?()
        }
        guard old.cluster != new.cluster, cluster.withLock({ $0 != nil }) || new.cluster.secretSyncs != .off else { return }
        clusterChanged("configuration reloaded")
    }

    /// `body` runs when a reload changed `sync.interval`, `sync.jitter` or `sync.retryAfterFailure`.
    func onScheduleChanged(_ body: @escaping @Sendable () -> Void) { scheduleChanged.withLock { $0 = body } }

    /// A K3s job has just seen the API server answer. A watch waiting out its backoff reconnects now; on a host
    /// where K3s arrived after aiosd started (no kubeconfig then, so no watch), the watch starts with a cycle.
    func apiServerAnswered() {
        let configuration = configuration()
        guard configuration.cluster.secretSyncs != .off else { return }
        if let source = cluster.withLock({ $0 }) {
            source.reconnectNow()
        } else if FileManager.default.fileExists(atPath: configuration.sync.kubeconfig) {
            clusterChanged("the Kubernetes API server answered a K3s job")
        }
    }

    /// A SecretSync or SecretProviderClass changed: sync soon (changes arriving together share one cycle).
    func clusterChanged(_ reason: String) {
        let schedule = progress.withLock { p -> Bool in
            if p.clusterCyclePending { return false }
            p.clusterCyclePending = true
            return true
        }
        guard schedule else { return }
        tasks.spawn { [self] in
            guard (try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }) != nil else { return }
            progress.withLock { $0.clusterCyclePending = false }
            _ = try? await cycle(force: false, reason: "cluster: \(reason)")
        }
    }

    var isRunning: Bool { progress.withLock { $0.running } }
    var lastCycle: SyncCycleSummary? { progress.withLock { $0.lastCycle } }
    var failedCyclesInARow: Int { progress.withLock { $0.failedCyclesInARow } }
    var failedCycles: Int { progress.withLock { $0.failedCycles } }

    /// `body` sees every finished cycle with its reason, after the runner's own bookkeeping.
    func onCycleFinished(_ body: @escaping @Sendable (SyncCycleReport, String) -> Void) { cycleFinished.withLock { $0 = body } }
    /// When the schedule runs the next cycle; set by the sync service.
    var nextCycleAt: Date? {
        get { progress.withLock { $0.nextCycleAt } }
        set { progress.withLock { $0.nextCycleAt = newValue } }
    }

    /// The Secret Store extension's object aiosd stood down for at the last cycle, if it did.
    var controllerSeen: String? { progress.withLock { $0.controller?.presence } }

    /// Ends the cluster watches (a request in progress finishes first).
    func stopWatching() { cluster.withLock { $0?.stop() } }

    /// The definitions in secrets.d, read fresh: an edit by hand counts at the next cycle.
    func definitions() -> SyncDefinitionDirectory.Loaded { directory.load() }

    var directory: SyncDefinitionDirectory {
        let sync = configuration().sync
        return SyncDefinitionDirectory(path: sync.definitions, defaultNamespace: sync.defaultNamespace)
    }

    /// Runs one cycle on the sync lane; `onResult` sees each definition's outcome as it is known. Throws
    /// CancellationError only when the caller is cancelled (aiosd stopping); a cycle already running then ends
    /// unwaited.
    func cycle(force: Bool, reason: String, onStart: @escaping @Sendable (Int) -> Void = { _ in },
               onResult: @escaping @Sendable (SyncOutcome) -> Void = { _ in }) async throws -> SyncCycleReport {
        try await lane.run { [self] in
            if let reason = election?.standDownBeforeCycle() {
                // Only the leader reads Key Vault and writes Secrets and SecretSync status.
                logger.info("Secret sync skipped: this node does not sync", metadata: ["sync.role": "\(reason)"])
                return .stoodDown(reason)
            }
            progress.withLock { $0.running = true }
            publisher?.syncCycle(running: true)
            defer { publisher?.syncCycle(running: false) }
            let configuration = configuration()
            handleDeletedSecretSyncs(configuration)
            let loaded = allDefinitions(checkController: true)
            reconcileOrphans(loaded, configuration)
            onStart(loaded.all.count)
            var invalid = loaded.invalidFiles.map { "\($0.error)" }
            invalid += loaded.invalidCluster.map { "\($0.issue.message)" }
            if let unreadable = loaded.clusterUnreadable {
                // `sync --wait` must not report success having skipped every SecretSync.
                invalid.append("the cluster's SecretSyncs could not be read: \(unreadable)")
            }
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
                $0.failedCyclesInARow = report.failed ? $0.failedCyclesInARow + 1 : 0
                if report.failed { $0.failedCycles += 1 }
            }
            ProcessMemory.returnFreedPages()
            if reason != SecretSyncService.scheduleReason { retryIfFailed(report, configuration: configuration) }
            cycleFinished.withLock { $0 }?(report, reason)
            if !report.outcomes.contains(where: { $0.issue?.code == "KubernetesUnreachable" }) {
                // The API server answered this cycle: a watch waiting out its backoff reconnects now.
                cluster.withLock { $0 }?.reconnectNow()
            }
            return report
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

    /// Once per start, when the cluster's SecretSyncs are known: Secrets aiosd created for SecretSyncs deleted
    /// while it was stopped go too (policy `delete`), as the owner reference makes Kubernetes do for new ones.
    private func reconcileOrphans(_ loaded: Definitions, _ configuration: AgentConfiguration) {
        guard configuration.cluster.onSecretSyncDeleted == .delete, configuration.cluster.secretSyncs != .off,
              loaded.clusterNote == nil, !progress.withLock({ $0.orphansReconciled }),
              let source = cluster.withLock({ $0 }) else { return }
        let snapshot = source.snapshot
        guard snapshot.available else { return }
        do {
            let deleted = try engine.deleteOrphanedClusterSecrets(existing: Set(snapshot.secretSyncs.map(\.key)), configuration: configuration)
            for key in deleted {
                logger.notice("SecretSync gone while aiosd was stopped; its Secret deleted", metadata: ["secret": "\(key)"])
                engine.forget(key)
            }
            progress.withLock { $0.orphansReconciled = true }
        } catch {
            logger.warning("Cannot look for Secrets of deleted SecretSyncs", metadata: ["error": "\(error)"])
        }
    }

    /// Writes each selected SecretSync's status where it changed, and takes aiosd's status off SecretSyncs no
    /// longer selected (a label removed, `cluster.secretSyncs` changed): their status would otherwise say
    /// "SecretUpToDate" forever.
    private func writeStatuses(_ loaded: Definitions, configuration: AgentConfiguration) {
        guard let client = try? engine.connections.kubernetes(configuration: configuration.sync),
              let hasher = try? engine.contentHasher(kubernetes: client) else { return }
        if loaded.clusterNote == nil, let source = cluster.withLock({ $0 }) {
            let selected = Set(loaded.selectedSyncs.map(\.key))
            for sync in source.snapshot.secretSyncs where !selected.contains(sync.key) && ClusterStatus.isAiosds(sync) {
                do {
                    try engine.checkFence()
                    try client.patchStatus(path: ClusterObjects.secretSyncPath(namespace: sync.namespace, name: sync.name),
                                           status: ClusterStatus.released)
                    logger.notice("SecretSync no longer selected; aiosd's status removed", metadata: ["secret": "\(sync.key)"])
                } catch {
                    logger.warning("Cannot write the SecretSync's status", metadata: ["secret": "\(sync.key)", "error": "\(error)"])
                }
            }
        }
        let invalid = Dictionary(loaded.invalidCluster.map { ($0.sync.key, $0.issue) }, uniquingKeysWith: { $1 })
        for sync in loaded.selectedSyncs {
            let desired = ClusterStatus.desired(for: sync, status: engine.status(sync.key), invalid: invalid[sync.key], hasher: hasher)
            guard ClusterStatus.differs(desired, from: sync) else { continue }
            do {
                try engine.checkFence()
                try client.patchStatus(path: ClusterObjects.secretSyncPath(namespace: sync.namespace, name: sync.name), status: desired)
            } catch {
                logger.warning("Cannot write the SecretSync's status", metadata: ["secret": "\(sync.key)", "error": "\(error)"])
            }
        }
    }

    /// Runs `body` on the sync lane, between cycles (definition edits and removals).
    func exclusive<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        let result: Result<T, APIError>
        do {
            result = try await lane.run { Result { () throws(APIError) -> T in try body() } }
        } catch {
            throw TaskSupervisor.stopping
        }
        return try result.get()
    }
}
