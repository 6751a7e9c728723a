import Dispatch
import FoundationEssentials
import Logging
import Synchronization

/// Syncs definitions from Key Vault to Kubernetes Secrets. One cycle: one list pass per vault decides which
/// values to fetch (by each secret's `updated` time), values are fetched with bounded concurrency, and a Secret
/// is applied only when its content hash differs from the one it carries, or when someone else wrote it since (its
/// resourceVersion moved) and its data differs. A cycle where nothing changed fetches no value, reads no Secret
/// and writes nothing. Failures keep the last good Secret; only a 404 or a disabled secret counts as
/// gone from the vault, and only then does the deleted-in-vault policy apply.
///
/// No value is kept between cycles: a definition's values are held only while its Secret is written. What tells
/// an unchanged Secret is the status (each object's `updated` time, the hash aiosd wrote); a Secret someone else
/// wrote since is compared by that hash, and only a Secret whose data differs has its values read again.
///
/// `run` must not be called concurrently (aiosd runs cycles on one queue); the parallelism is inside.
public final class SecretSyncEngine: Sendable {
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let managedByValue = "aiosd"
    public static let definitionLabel = "aios.microsoft.com/sync"
    public static let sourceLabel = "aios.microsoft.com/source"
    public static let hashAnnotation = "aios.microsoft.com/content-hash"
    public static let vaultAnnotation = "aios.microsoft.com/vault"
    public static let ownerSelector = "\(managedByLabel)=\(managedByValue)"

    let state: SyncStateStore
    private let hasherKeyPath: String
    private let loadedHasher = Mutex<ContentHasher?>(nil)
    let logger: Logger
    public let connections: SyncConnections
    /// Each definition's hash with the identity it was computed from: describing a definition (the hash's input)
    /// costs far more than comparing it, and every cycle needs the hash of every definition.
    private let definitionHashes = Mutex<[String: (identity: SyncDefinition, hash: String)]>([:])
    private let workers: any BlockingWorkers

    /// One object's value(s) as fetched, held until its definition's Secret is written.
    struct FetchedValue: Sendable {
        var updated: Int?
        /// When the list pass that decided this fetch ran (Unix seconds).
        var observedAt: Int?
        var version: String?
        var outputs: [String: [UInt8]]
        /// The earliest of the version's `exp` and its certificate's notAfter; its `nbf` (Unix seconds).
        var expires: Int?
        var notBefore: Int?
    }

    /// `hasherKeyPath`: the host's content-hash key from before the key was cluster-wide (see `contentHasher`).
    /// `workers`: the threads vault fetches and Secret writes are spread over (`sync.concurrency` at once).
    /// The fence of leader election: true while this node may write Secrets (always, with one node and no election).
    let mayWrite: @Sendable () -> Bool

    public init(state: SyncStateStore, hasherKeyPath: String = ContentHasher.defaultKeyPath, connections: SyncConnections,
                workers: any BlockingWorkers, logger: Logger, mayWrite: @escaping @Sendable () -> Bool = { true }) {
        self.mayWrite = mayWrite
        self.state = state
        self.workers = workers
        self.hasherKeyPath = hasherKeyPath
        self.connections = connections
        self.logger = logger
    }

    public func status(_ name: String) -> SyncDefinitionStatus? { state.get(name) }
    /// Every definition's status as of the last cycle (status and metrics read it).
    public var allStatuses: [SyncDefinitionStatus] { state.all }

    /// One cycle over `definitions`. `force` fetches every value and re-checks every Secret.
    public func run(definitions: [SyncDefinition], invalid: [String], force: Bool, configuration: AgentConfiguration,
                    progress: @escaping @Sendable (SyncOutcome) -> Void = { _ in }) -> SyncCycleReport {
        let started = Date()
        // A forced sync also takes a fixed credential (e.g. a corrected federated credential) at once.
        if force { connections.dropCachedTokens() }
        let vaultRequestsBefore = connections.vaultRequestCount
        let kubeRequestsBefore = connections.kubernetesRequestCount
        var outcomes: [SyncOutcome] = []

        // Forget the status of definitions that are gone (their Secrets stay: removal is explicit).
        let names = Set(definitions.map(\.name))
        for status in state.all where !names.contains(status.name) { state.remove(status.name) }
        definitionHashes.withLock { hashes in
            for name in hashes.keys where !names.contains(name) { hashes[name] = nil }
        }

        if definitions.isEmpty {
            state.save()
            return report(started, outcomes, invalid, vaultRequestsBefore, kubeRequestsBefore)
        }
        let kubernetes: KubernetesClient
        let owned: [String: KubernetesClient.SecretSummary]
        let hasher: ContentHasher
        do {
            kubernetes = try connections.kubernetes(configuration: configuration.sync)
            owned = Dictionary(try kubernetes.listSecrets(labelSelector: Self.ownerSelector).map { ("\($0.namespace)/\($0.name)", $0) },
                               uniquingKeysWith: { first, _ in first })
            hasher = try contentHasher(kubernetes: kubernetes)
        } catch {
            let issue = (error as? SyncIssue) ?? SyncIssue(code: "KubernetesUnreachable", message: "\(error)",
                                                           hint: "check K3s: systemctl status k3s; aiosctl k3s config --effective")
            for definition in definitions {
                let outcome = fail(definition, issue, started: started)
                log(definition, outcome, targetExists: nil)
                outcomes.append(outcome)
                progress(outcome)
            }
            state.save()
            return report(started, outcomes, invalid, vaultRequestsBefore, kubeRequestsBefore)
        }

        let absentTargets = Self.absentTargets(of: definitions, owned: owned, kubernetes: kubernetes)

        // One list pass per (vault, identity).
        var groups: [VaultKey: [SyncDefinition]] = [:]
        var order: [VaultKey] = []
        for definition in definitions {
            let identity: SyncIdentity
            do {
                identity = try SyncIdentity.resolve(definition, configuration: configuration.identity, policy: configuration.secrets)
            } catch {
                let outcome = fail(definition, error, started: Date())
                log(definition, outcome, targetExists: nil)
                outcomes.append(outcome)
                progress(outcome)
                continue
            }
            let key = VaultKey(vault: definition.keyvaultName, identity: identity)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(definition)
        }

        for key in order {
            let group = groups[key]!
            let vault: VaultAccess
            let listing: [String: VaultListing]
            do {
                vault = try connections.vault(key.vault, identity: key.identity, kubernetes: kubernetes, configuration: configuration.sync)
                listing = try vault.list()
            } catch {
                for definition in group {
                    let outcome = fail(definition, error, started: Date())
                    log(definition, outcome, targetExists: nil)
                    outcomes.append(outcome)
                    progress(outcome)
                }
                continue
            }
            // Each outcome is reported as its definition finishes (a long first sync keeps the progress stream alive).
            outcomes += sync(group, vault: vault, listing: listing, owned: owned, absentTargets: absentTargets, kubernetes: kubernetes, hasher: hasher,
                             force: force, configuration: configuration.sync, progress: progress)
        }
        if let error = state.save() {
            logger.error("Cannot save the sync state", metadata: ["error": "\(error)"])
        }
        return report(started, outcomes, invalid, vaultRequestsBefore, kubeRequestsBefore)
    }

    /// The cluster's content-hash key (see `ClusterHashKey`), read once per start; the host's key file from
    /// before is only the proposal for a cluster that has none yet.
    public func contentHasher(kubernetes: KubernetesClient) throws(SyncIssue) -> ContentHasher {
        if let hasher = loadedHasher.withLock({ $0 }) { return hasher }
        let local = FileManager.default.contents(atPath: hasherKeyPath).map(Array.init)
        let hasher = ContentHasher(key: try ClusterHashKey.obtain(kubernetes, proposal: local))
        loadedHasher.withLock { $0 = hasher }
        return hasher
    }

    public func forget(_ name: String) {
        state.remove(name)
        state.save()
    }

    /// The definition without what changes when nothing that matters does (a SecretSync's resourceVersion moves
    /// with every status write).
    static func identity(of definition: SyncDefinition) -> SyncDefinition {
        var copy = definition
        if case .cluster(var origin) = copy.source {
            origin.resourceVersion = ""
            copy.source = .cluster(origin)
        }
        return copy
    }

    /// The hash that tells a changed definition (its status keeps the one of its last sync).
    private func definitionHash(of definition: SyncDefinition, hasher: ContentHasher) -> String {
        let identity = Self.identity(of: definition)
        if let known = definitionHashes.withLock({ $0[definition.name] }), known.identity == identity { return known.hash }
        let hash = hasher.hash(Array(identity.hashInput.utf8))
        definitionHashes.withLock { $0[definition.name] = (identity, hash) }
        return hash
    }

    /// Seconds after an `updated` time before a list pass that shows it is trusted to have seen every write of
    /// that second (Key Vault's timestamps have one-second resolution; a little slack for clock differences).
    static let updatedResolution = 2

    /// True when the recorded `updated` time was observed late enough that no later write can share it.
    static func settled(_ status: SyncObjectStatus) -> Bool {
        guard let updated = status.vaultUpdated, let observed = status.observedAt else { return false }
        return observed - updated >= updatedResolution
    }

    /// More targets than this in one namespace that are not aiosd's Secrets yet (a first sync) are looked up with
    /// one list of the namespace's Secret names instead of a read each.
    static let namespaceListThreshold = 10

    /// The targets (`namespace/name`) no Secret has, by one list of each namespace with more than
    /// `namespaceListThreshold` targets aiosd does not own; a namespace whose list fails is read target by target.
    /// A target two definitions name is never among them: the second's write must find the first's Secret (a
    /// read), not take it for someone else's created in between (which a first write releases again).
    static func absentTargets(of definitions: [SyncDefinition], owned: [String: KubernetesClient.SecretSummary],
                              kubernetes: KubernetesClient) -> Set<String> {
        let named = Dictionary(definitions.map { ("\($0.target.namespace)/\($0.target.name)", 1) }, uniquingKeysWith: +)
        var missing: [String: [String]] = [:]
        for definition in definitions {
            let key = "\(definition.target.namespace)/\(definition.target.name)"
            guard owned[key] == nil, named[key] == 1 else { continue }
            missing[definition.target.namespace, default: []].append(definition.target.name)
        }
        var absent: Set<String> = []
        for (namespace, names) in missing where names.count > namespaceListThreshold {
            guard let present = try? kubernetes.secretNames(namespace: namespace) else { continue }
            for name in names where !present.contains(name) { absent.insert("\(namespace)/\(name)") }
        }
        return absent
    }

    public static func isOwned(_ secret: KubernetesClient.SecretSummary, by definition: SyncDefinition) -> Bool {
        secret.labels[managedByLabel] == managedByValue && secret.labels[definitionLabel] == definition.ownerLabelValue
            && (secret.labels[sourceLabel] ?? "file") == definition.source.kind
    }

    // MARK: One vault's definitions

    private struct VaultKey: Hashable {
        var vault: String
        var identity: SyncIdentity
    }

    private struct FetchItem: Sendable {
        var definition: Int
        var object: Int
        var objectSpec: SyncObject
        var listing: VaultListing
    }

    /// Object `object` of definition `definition` in a cycle's list.
    private struct ObjectIndex: Hashable {
        var definition: Int
        var object: Int
    }

    private enum FetchResult: Sendable {
        case value(FetchedValue)
        case failure(SyncIssue, absent: Bool)
    }

    /// `progress` is escaping for real: the workers' threads may release their work items (which capture it) a
    /// moment after this returns.
    private func sync(_ definitions: [SyncDefinition], vault: VaultAccess, listing: [String: VaultListing],
                              owned: [String: KubernetesClient.SecretSummary], absentTargets: Set<String>, kubernetes: KubernetesClient,
                              hasher: ContentHasher, force: Bool,
                              configuration: SyncConfiguration, progress: @escaping @Sendable (SyncOutcome) -> Void) -> [SyncOutcome] {
        let now = Date()
        var statuses: [SyncDefinitionStatus] = []
        var fetch: [FetchItem] = []
        var absent: [ObjectIndex: SyncIssue] = [:]
        var starts: [Date] = []
        // Definition d's items are fetch[fetchRanges[d]] (appended in definition order): no array per definition.
        var fetchRanges: [Range<Int>] = []
        statuses.reserveCapacity(definitions.count)
        starts.reserveCapacity(definitions.count)
        fetchRanges.reserveCapacity(definitions.count)

        for (d, definition) in definitions.enumerated() {
            starts.append(Date())
            let firstItem = fetch.count
            var status = state.get(definition.name) ?? SyncDefinitionStatus(name: definition.name)
            let definitionHash = self.definitionHash(of: definition, hasher: hasher)
            let target = owned["\(definition.target.namespace)/\(definition.target.name)"]
            let targetCurrent = target.map { Self.isOwned($0, by: definition) && $0.annotations[Self.hashAnnotation] == status.targetHash } ?? false
            // A definition whose last attempt failed is fetched again: its objects' statuses may be ahead of its
            // Secret (fetched, then the write failed), and no value is kept to write from.
            let refetchAll = force || status.definitionHash != definitionHash || !targetCurrent || status.targetDeleted || status.issue != nil
            var objects: [SyncObjectStatus] = []
            var changes = false
            for (o, object) in definition.objects.enumerated() {
                var objectStatus = status.objects.first { $0.objectName == object.objectName && $0.alias == object.alias }
                    ?? SyncObjectStatus(objectName: object.objectName, alias: object.alias)
                // A disabled current version does not make the object gone when it is pinned or its history is asked for.
                guard let listed = listing[object.objectName.lowercased()],
                      listed.enabled || object.objectVersion != nil || object.objectVersionHistory > 1 else {
                    let gone = listing[object.objectName.lowercased()] == nil
                    let issue = gone
                        ? SyncIssue(code: "SecretNotFound", message: "\(object.objectName) is not in vault \(definition.keyvaultName)",
                                    hint: "az keyvault secret list --vault-name \(definition.keyvaultName) --query [].name")
                        : SyncIssue(code: "SecretDisabled", message: "\(object.objectName) is disabled in vault \(definition.keyvaultName)",
                                    hint: "az keyvault secret set-attributes --vault-name \(definition.keyvaultName) --name \(object.objectName) --enabled true")
                    absent[ObjectIndex(definition: d, object: o)] = issue
                    objectStatus.lastAttempt = now
                    objectStatus.issue = issue
                    objects.append(objectStatus)
                    continue
                }
                let changed = object.objectVersion != nil
                    ? objectStatus.vaultVersion != object.objectVersion
                    : objectStatus.vaultUpdated != listed.updated || !Self.settled(objectStatus)
                if refetchAll || changed || objectStatus.issue != nil { changes = true }
                // Every object of the definition is fetched when one is: the Secret is written from all of them.
                fetch.append(FetchItem(definition: d, object: o, objectSpec: object, listing: listed))
                objects.append(objectStatus)
            }
            if !changes { fetch.removeSubrange(firstItem...) }
            status.objects = objects
            status.definitionHash = definitionHash
            statuses.append(status)
            fetchRanges.append(firstItem..<fetch.count)
        }

        // Each definition's values are fetched and its Secret checked and written right after, a bounded number of
        // definitions at a time: Secrets are written while the vault's request window refills, not after every fetch.
        let logger = self.logger
        let names = definitions.map(\.name)
        let fetchItems = fetch
        let fetchOne: @Sendable (FetchItem) -> FetchResult = { item in
            let started = ContinuousClock.now
            let result: FetchResult
            do {
                result = .value(try vault.fetch(item.objectSpec, listing: item.listing))
            } catch let issue as VaultIssue {
                result = .failure(issue.issue, absent: issue.absent)
            } catch {
                result = .failure(SyncIssue(code: "InternalError", message: "\(error)"), absent: false)
            }
            // One entry per object read from the vault (names, versions and codes; never a value).
            let elapsed = (ContinuousClock.now - started).components
            var metadata: Logger.Metadata = [
                "secret": "\(names[item.definition])", "vault": "\(vault.vaultName)", "object": "\(item.objectSpec.objectName)",
                "duration_ms": "\(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)",
            ]
            switch result {
            case .value(let value):
                metadata["outcome"] = "fetched"
                metadata["version"] = "\(value.version ?? "")"
                logger.info("Key Vault object fetched", metadata: metadata)
            case .failure(let issue, let absent):
                metadata["outcome"] = "\(absent ? "absent" : "failed")"
                metadata["error.code"] = "\(issue.code)"
                metadata["error"] = "\(issue.message)"
                logger.warning("Key Vault object not fetched", metadata: metadata)
            }
            return result
        }

        let collected = Mutex<[Int: SyncOutcome]>([:])
        let absentObjects = absent, fixedStarts = starts, fixedRanges = fetchRanges
        // Each status is taken out when its definition starts, so the worker changes the only copy (its objects
        // array is not copied again) and a finished definition's old status is not held to the cycle's end.
        let pending = Mutex<[SyncDefinitionStatus?]>(statuses)
        statuses = []
        let finish: @Sendable (Int) -> Void = { [self] d in
            let definition = definitions[d]
            let target = owned["\(definition.target.namespace)/\(definition.target.name)"]
            var status = pending.withLock { pending in
                defer { pending[d] = nil }
                return pending[d]!
            }
            status.lastAttempt = now
            // A definition's objects one after the other: definitions already run `sync.concurrency` at once.
            var fetched: [Int: FetchResult] = [:]
            for item in fetchItems[fixedRanges[d]] { fetched[item.object] = fetchOne(item) }
            if fetched.isEmpty, !definition.objects.indices.contains(where: { absentObjects[ObjectIndex(definition: d, object: $0)] != nil }) {
                // Nothing changed in the vault: the Secret is checked against the hash aiosd wrote, and its values
                // are read again only if its data differs (someone else wrote it since).
                if let outcome = confirmUnchanged(definition, status: &status, target: target, kubernetes: kubernetes, hasher: hasher,
                                                  started: fixedStarts[d]) {
                    for o in status.objects.indices {
                        status.objects[o].lastAttempt = now
                        if outcome.result == .unchanged {
                            status.objects[o].lastSuccess = now
                            status.objects[o].issue = nil
                        }
                        ExpiryWarnings.check(&status.objects[o], definition: definition, now: now, logger: logger)
                    }
                    state.put(status)
                    log(definition, outcome, targetExists: target.map { Self.isOwned($0, by: definition) })
                    collected.withLock { $0[d] = outcome }
                    progress(outcome)
                    return
                }
                for (o, object) in definition.objects.enumerated() {
                    guard let listed = listing[object.objectName.lowercased()] else { continue }
                    fetched[o] = fetchOne(FetchItem(definition: d, object: o, objectSpec: object, listing: listed))
                }
            }
            var outputs: [String: [UInt8]] = [:]
            var failures: [SyncIssue] = []
            var goneCount = 0
            var fetchedCount = 0
            for (o, object) in definition.objects.enumerated() {
                var objectStatus = status.objects[o]
                objectStatus.lastAttempt = now
                if let issue = absentObjects[ObjectIndex(definition: d, object: o)] {
                    goneCount += 1
                    failures.append(issue)
                    status.objects[o] = objectStatus
                    continue
                }
                switch fetched[o] {
                case .value(let value)?:
                    fetchedCount += 1
                    objectStatus.vaultUpdated = value.updated
                    objectStatus.observedAt = value.observedAt
                    objectStatus.vaultVersion = value.version
                    objectStatus.contentHash = hasher.hash(type: "object", data: value.outputs)
                    objectStatus.lastSuccess = now
                    objectStatus.issue = nil
                    ExpiryWarnings.record(expires: value.expires, notBefore: value.notBefore, on: &objectStatus)
                    outputs.merge(value.outputs) { $1 }
                case .failure(let issue, let isAbsent)?:
                    if isAbsent { goneCount += 1 }
                    objectStatus.issue = issue
                    failures.append(issue)
                case nil:
                    // Unchanged in the vault, and not needed: a sibling is gone, so nothing is written.
                    objectStatus.lastSuccess = now
                    objectStatus.issue = nil
                }
                ExpiryWarnings.check(&objectStatus, definition: definition, now: now, logger: logger)
                status.objects[o] = objectStatus
            }
            let outcome: SyncOutcome
            if failures.isEmpty {
                outcome = apply(definition, outputs: outputs, status: &status, target: target,
                                knownAbsent: absentTargets.contains("\(definition.target.namespace)/\(definition.target.name)"),
                                kubernetes: kubernetes, hasher: hasher, fetched: fetchedCount, force: force, started: fixedStarts[d])
            } else if goneCount == definition.objects.count && configuration.deletedInVault == .delete {
                outcome = deleteGone(definition, status: &status, target: target, kubernetes: kubernetes, issue: failures[0], started: fixedStarts[d])
            } else {
                // Objects gone from the vault keep the Secret (`retain`) only if there is one: with none to keep, the
                // definition has failed (it is retried, and never reported as kept).
                let retained = goneCount == failures.count && target.map { Self.isOwned($0, by: definition) } == true
                status.issue = retained || goneCount < failures.count ? nil : failures[0]
                outcome = SyncOutcome(name: definition.name, result: retained ? .retained : .failed,
                                      seconds: Date().timeIntervalSince(fixedStarts[d]), fetched: fetchedCount, issue: failures[0])
            }
            state.put(status)
            log(definition, outcome, targetExists: target.map { Self.isOwned($0, by: definition) })
            collected.withLock { $0[d] = outcome }
            progress(outcome)
        }
        // A definition with nothing to fetch only compares what is known (a Secret is read only if someone else
        // wrote it): this thread does those one after the other. Spread over the workers, their locks and thread
        // switches were a third of a steady cycle's CPU at 10,000 unchanged definitions (perf).
        for d in definitions.indices where fetchRanges[d].isEmpty { finish(d) }
        ParallelWork.run(definitions.indices.filter { !fetchRanges[$0].isEmpty }, width: configuration.concurrency, on: workers, finish)
        let outcomes = collected.withLock { $0 }
        return definitions.indices.compactMap { outcomes[$0] }
    }

    private func fail(_ definition: SyncDefinition, _ error: any Error, started: Date) -> SyncOutcome {
        let issue = (error as? SyncIssue) ?? (error as? VaultIssue)?.issue ?? SyncIssue(code: "InternalError", message: "\(error)")
        var status = state.get(definition.name) ?? SyncDefinitionStatus(
            name: definition.name, objects: definition.objects.map { SyncObjectStatus(objectName: $0.objectName, alias: $0.alias) })
        status.lastAttempt = Date()
        status.issue = issue
        state.put(status)
        return SyncOutcome(name: definition.name, result: .failed, seconds: Date().timeIntervalSince(started), fetched: 0, issue: issue)
    }

    /// One journal entry per definition and cycle. Its message says what happened to the Secret: "synced" only when
    /// it was written, "kept" only when it exists. `targetExists` is nil when the cycle never got to look.
    private func log(_ definition: SyncDefinition, _ outcome: SyncOutcome, targetExists: Bool?) {
        var metadata: Logger.Metadata = [
            "secret": "\(definition.name)", "vault": "\(definition.keyvaultName)",
            "target": "\(definition.target.namespace)/\(definition.target.name)",
            "outcome": "\(outcome.result.rawValue)", "fetched": "\(outcome.fetched)",
            "duration_ms": "\(Int(outcome.seconds * 1000))",
        ]
        if let issue = outcome.issue {
            metadata["error.code"] = "\(issue.code)"
            metadata["error"] = "\(issue.message)"
        }
        switch outcome.result {
        case .failed: logger.warning("Secret sync failed", metadata: metadata)
        case .unchanged: logger.debug("Secret unchanged", metadata: metadata)
        case .applied: logger.info("Secret synced", metadata: metadata)
        case .retained: logger.warning("Secret kept; its objects are gone from the vault (sync.deletedInVault: retain)", metadata: metadata)
        case .deleted where targetExists == true:
            logger.notice("Secret deleted; its objects are gone from the vault (sync.deletedInVault: delete)", metadata: metadata)
        case .deleted: logger.notice("No Secret written; its objects are gone from the vault (sync.deletedInVault: delete)", metadata: metadata)
        }
    }

    private func report(_ started: Date, _ outcomes: [SyncOutcome], _ invalid: [String], _ vaultBefore: Int, _ kubeBefore: Int) -> SyncCycleReport {
        SyncCycleReport(startedAt: started, finishedAt: Date(), outcomes: outcomes,
                        vaultRequests: connections.vaultRequestCount - vaultBefore,
                        kubernetesRequests: connections.kubernetesRequestCount - kubeBefore, invalidDefinitions: invalid)
    }
}
