import AIOSCore
import FoundationEssentials
import Logging
import Synchronization

/// Keeps this node's definition files published in the cluster (see `PublishedDefinitions`) and gives the
/// leader the definitions other nodes published. Reconciled at every heartbeat (10 s). The copies come from the
/// watch of their Leases (`PublishedDefinitionsWatch`); a heartbeat with neither the files nor the watched copies
/// changed does nothing. While the watch cannot vouch for its copies, they are read here: at every heartbeat
/// while another server's heartbeat is current, else once a minute (one Lease per definition: at 10,000
/// definitions a list is megabytes), and not while this node's sync cycle runs (two minutes apart at most).
final class DefinitionPublisher: Sendable {
    /// The longest a server alone in the cluster goes without reading every copy (a copy edited by hand).
    static let quietListInterval: Duration = .seconds(60)

    let leases: any LeaseClient
    /// nil: the copies are always read here (tests of that path).
    let watched: PublishedDefinitionsWatch?
    let configuration: @Sendable () -> AgentConfiguration
    let logger: Logger

    private struct State {
        var copies: [String: PublishedDefinitions.Copy]?
        var conflicts: [String: String] = [:]
        /// Each definition's canonical text with the definition it was rendered from: rendering all 10,000 at
        /// every heartbeat cost more than comparing them.
        var rendered: [String: (definition: SyncDefinition, text: String)] = [:]
        /// Counts the renders that changed the files (a text, a name added or gone).
        var renderGeneration = 0
        /// The render generation of the last reconcile that succeeded, the watch's generation of the copies it used
        /// (nil: it read them itself), and when.
        var reconciled: (generation: Int, watched: Int?, at: ContinuousClock.Instant)?
    }

    private let state = Mutex(State())

    /// The last load of the definition files, reused while inotify saw nothing change in their directory (a
    /// load stats every file: at 10,000 definitions most of a heartbeat's CPU); loaded again at least once a
    /// `quietListInterval` all the same. Held for the whole load, so a reconcile never reuses a load older than
    /// events another one drained.
    private struct LastLoad {
        var path: String
        var defaultNamespace: String
        var loaded: SyncDefinitionDirectory.Loaded
        var at: ContinuousClock.Instant
    }
    private let lastLoad = Mutex<LastLoad?>(nil)
    private let directoryChanges = DirectoryChanges()
    /// How many times the files were loaded (tests).
    private let loads = Atomic<Int>(0)
    var directoryLoads: Int { loads.load(ordering: .relaxed) }

    /// While this node's sync cycle runs, a server alone puts its quiet read of every copy off, by one more
    /// `quietListInterval` at most: at 10,000 definitions that read is 20 pages and 12 MB, and inside a first sync
    /// it competed with the cycle's own requests for the API server and the CPU.
    private let cycleRunning = Atomic<Bool>(false)
    func syncCycle(running: Bool) { cycleRunning.store(running, ordering: .relaxed) }
    var syncCycleIsRunning: Bool { cycleRunning.load(ordering: .relaxed) }

    init(leases: any LeaseClient, watched: PublishedDefinitionsWatch? = nil, configuration: @escaping @Sendable () -> AgentConfiguration, logger: Logger) {
        self.leases = leases
        self.watched = watched
        self.configuration = configuration
        self.logger = logger
    }

    /// Publishes, updates or withdraws this node's files and reads every copy (blocking: API server calls);
    /// true when other nodes' copies changed since the last call (the leader then syncs at once).
    /// `now` is the reconcile's time (tests pass it; the files' own reload goes by the clock).
    func reconcile(node: String, now: ContinuousClock.Instant = .now) throws(SyncIssue) -> Bool {
        let configuration = configuration()
        let directory = SyncDefinitionDirectory(path: configuration.sync.definitions, defaultNamespace: configuration.sync.defaultNamespace)
        let (loaded, reused) = definitions(in: directory)
        // Only files that parse: a broken file is never taken as "removed" (its copy stays) nor published.
        let broken = Set(loaded.invalid.map(\.name))
        let generation = reused ? state.withLock { $0.renderGeneration } : render(loaded.definitions)
        do {
            // At start the watch lists every copy: taken from it, not read a second time at the same moment.
            if let watched, state.withLock({ $0.reconciled == nil }) { watched.waitForFirstList(timeout: 5) }
            let watchedGeneration = watched?.generation
            let putOff = syncCycleIsRunning ? Self.quietListInterval * 2 : Self.quietListInterval
            let quiet = state.withLock { s in
                guard let last = s.reconciled, last.generation == generation else { return false }
                // With the watch, nothing changed in the cluster while its generation stands still.
                if let watchedGeneration { return last.watched == watchedGeneration }
                return last.watched == nil && now - last.at < putOff
            }
            if quiet {
                if watchedGeneration != nil { return false }
                if try !anotherServerIsLive(than: node) { return false }
            }
            let files = state.withLock { $0.rendered.mapValues(\.text) }
            // Shared first, so the copies taken below share this node's texts and are not copied again.
            if let watched, watchedGeneration != nil { watched.shareTexts(with: files) }
            let fromWatch = watchedGeneration == nil ? nil : watched?.current
            var listed = fromWatch == nil
            // Every copy read, or the watch's copies taken in place of the last ones: megabytes at 10,000
            // definitions, freed again at once.
            defer { ProcessMemory.returnFreedPages() }
            var copies = try fromWatch?.copies ?? PublishedDefinitions.list(leases)
            let actions = PublishedDefinitions.plan(node: node, files: files, published: copies).filter {
                if case .delete(let name) = $0 { return !broken.contains(name) }
                return true
            }
            let conflicts = try PublishedDefinitions.apply(actions, node: node, to: leases)
            if actions.count > conflicts.count {
                copies = try PublishedDefinitions.list(leases)
                listed = true
            }
            // (The watch's copies share the texts already; a pass over them here would copy the dictionary.)
            if listed { PublishedDefinitions.shareTexts(of: &copies, with: files) }
            var conflicting: [String: String] = [:]
            for case .conflict(let name, let publisher) in conflicts { conflicting[name] = publisher }
            for case .removeFile(let name, let removedBy) in conflicts {
                do {
                    try directory.remove(name)
                    logger.notice("Definition file removed: the definition was removed in the cluster", metadata: ["secret": "\(name)", "removed_by": "\(removedBy)"])
                } catch {
                    logger.warning("Cannot remove the definition file of a definition removed in the cluster", metadata: ["secret": "\(name)", "error": "\(error)"])
                }
            }
            // Only other nodes' copies (and removals) change what the leader syncs (its own mirror its files).
            let others = { (copies: [String: PublishedDefinitions.Copy]) in
                copies.filter { $0.value.publisher != node || $0.value.removedBy != nil }.mapValues { "\($0.text)\u{0}\($0.removedBy ?? "")" }
            }
            let changed = state.withLock { s -> Bool in
                let before = others(s.copies ?? [:])
                s.copies = copies
                let newConflicts = conflicting.filter { s.conflicts[$0.key] != $0.value }
                s.conflicts = conflicting
                s.reconciled = (generation, listed ? nil : fromWatch?.generation, now)
                for (name, publisher) in newConflicts {
                    logger.warning("Definition file differs from the copy another node published; not published",
                                   metadata: ["secret": "\(name)", "publisher": "\(publisher)"])
                }
                return before != others(copies)
            }
            for action in actions {
                switch action {
                case .create(let name, _), .update(let name, _, _):
                    logger.notice("Definition published to the cluster", metadata: ["secret": "\(name)", "node": "\(node)"])
                case .delete(let name):
                    logger.notice("Definition withdrawn from the cluster (its file is gone)", metadata: ["secret": "\(name)", "node": "\(node)"])
                case .conflict, .removeFile:
                    break
                }
            }
            return changed
        } catch {
            throw SyncIssue(code: "KubernetesError", message: "cannot publish the definition files: \(error)")
        }
    }

    /// This node's definition files: the last load again while nothing in their directory changed.
    private func definitions(in directory: SyncDefinitionDirectory) -> (loaded: SyncDefinitionDirectory.Loaded, reused: Bool) {
        lastLoad.withLock { last in
            let changed = directoryChanges.changed(directory.path)
            if !changed, let previous = last, previous.path == directory.path, previous.defaultNamespace == directory.defaultNamespace,
               ContinuousClock.now - previous.at < Self.quietListInterval {
                return (previous.loaded, true)
            }
            let loaded = directory.load()
            loads.add(1, ordering: .relaxed)
            last = LastLoad(path: directory.path, defaultNamespace: directory.defaultNamespace, loaded: loaded, at: .now)
            return (loaded, false)
        }
    }

    /// Renders each definition's canonical text by name (the first of a name) into `State.rendered`, again only
    /// when it changed; returns the render generation of the result (the last one's when nothing changed).
    private func render(_ definitions: [SyncDefinition]) -> Int {
        let known = state.withLock { $0.rendered }
        var rendered: [String: (definition: SyncDefinition, text: String)] = [:]
        rendered.reserveCapacity(definitions.count)
        var changed = false
        for definition in definitions where rendered[definition.name] == nil {
            if let memo = known[definition.name], memo.definition == definition {
                rendered[definition.name] = memo
            } else {
                let text = SyncDefinitionFile.render(definition)
                changed = changed || known[definition.name]?.text != text
                rendered[definition.name] = (definition, text)
            }
        }
        changed = changed || rendered.count != known.count
        return state.withLock { s in
            s.rendered = rendered
            if changed { s.renderGeneration += 1 }
            return s.renderGeneration
        }
    }

    /// The definitions in force cluster-wide: this node's files (its own copies only mirror them, and may lag a
    /// moment behind an edit or a removal), and the copies other nodes published; of the same name in both, the
    /// other node's copy wins (it was published first). Copies that do not parse are `invalid`.
    func merge(_ local: SyncDefinitionDirectory.Loaded, node: String, defaultNamespace: String) -> SyncDefinitionDirectory.Loaded {
        guard let copies = state.withLock({ $0.copies }) else { return local }
        var byName = Dictionary(local.definitions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var invalid = local.invalid
        for (name, copy) in copies.sorted(by: { $0.key < $1.key }) where copy.removedBy != nil {
            // Removed in the cluster: not in force; this node's file of that content goes at the next reconcile.
            if let mine = byName[name], SyncDefinitionFile.render(mine) == copy.text { byName[name] = nil }
        }
        for (name, copy) in copies.sorted(by: { $0.key < $1.key }) where copy.publisher != node && copy.removedBy == nil {
            if let mine = byName[name], SyncDefinitionFile.render(mine) == copy.text { continue }
            let origin = "Lease \(LeaderElectionSettings.namespace)/\(PublishedDefinitions.leaseName(for: name)) (published by \(copy.publisher))"
            do {
                byName[name] = try SyncDefinitionFile.parse(copy.text, file: origin, name: name, defaultNamespace: defaultNamespace)
                invalid.removeAll { $0.name == name }
            } catch {
                invalid.append((name, error))
            }
        }
        return SyncDefinitionDirectory.Loaded(definitions: byName.values.sorted { $0.name < $1.name }, invalid: invalid)
    }

    /// True when a server other than `node` has a current heartbeat: its files can change the copies at any time.
    private func anotherServerIsLive(than node: String) throws(KubernetesError) -> Bool {
        let heartbeats = try leases.listLeases(namespace: LeaderElectionSettings.namespace, labelSelector: NodeHeartbeat.selector)
        return NodeHeartbeat.nodes(from: heartbeats, now: Date()).contains { $0.name != node && $0.role == .server && $0.ready }
    }

    /// The copy of `name` in the cluster now (one read, blocking), nil if there is none.
    func copy(named name: String) throws(KubernetesError) -> PublishedDefinitions.Copy? {
        try PublishedDefinitions.copy(named: name, in: leases)
    }

    /// Marks the cluster's copy removed by `node` (`secret remove` on any server); retried once after a 409.
    func markRemoved(_ name: String, by node: String) throws(KubernetesError) {
        for _ in 0..<2 {
            guard let copy = try copy(named: name), copy.removedBy == nil else { return }
            if try PublishedDefinitions.markRemoved(copy, by: node, in: leases) { return }
        }
        throw KubernetesError(code: 409, reason: "Conflict", message: "the definition's Lease changed twice while it was being marked removed; try again")
    }

    /// Clears a removal marker of `name` so a definition added again is published, not removed (`secret add`).
    func clearRemoved(_ name: String) throws(KubernetesError) {
        guard let copy = try copy(named: name), copy.removedBy != nil else { return }
        try leases.deleteLease(namespace: LeaderElectionSettings.namespace, name: PublishedDefinitions.leaseName(for: name))
    }

    /// Names whose local file another node's copy overrides, with that node.
    var conflicts: [String: String] { state.withLock { $0.conflicts } }
}
