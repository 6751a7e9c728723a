import FoundationEssentials
import Logging
import Synchronization

/// Every published definition (`PublishedDefinitions`), kept current by one list and then a watch of their Leases,
/// the way informers keep objects: a server reads every copy once, then only what changes. Without it a server read
/// every copy at each heartbeat while another server was live, and once a minute alone: at 10,000 definitions 20
/// pages and 12 MB each time, from every server.
///
/// `run()` blocks its thread until `stop()`. `current` is nil unless the last list succeeded and no watch failed
/// since; the publisher then reads the copies itself. A watch that fails (the API server restarts) lists again
/// when the API server answers, so nothing that changed meanwhile is missed.
public final class PublishedDefinitionsWatch: Sendable {
    public struct Current: Sendable {
        public var copies: [String: PublishedDefinitions.Copy]
        /// Moves with every change to `copies` (the publisher skips a heartbeat's work while it stands still).
        public var generation: Int
    }

    private struct State {
        var copies: [String: PublishedDefinitions.Copy] = [:]
        var generation = 0
        var live = false
        var stopped = false
        /// The first list was tried (answered or failed).
        var tried = false
    }

    private let state = Mutex(State())
    /// Wakes a backoff at `stop()`; `state.stopped` is set before the broadcast, under this lock.
    private let wake = ThreadCondition()
    private let leases: any LeaseClient
    /// False on a node that publishes nothing (an agent, or no K3s yet): no watch then.
    private let shouldWatch: @Sendable () -> Bool
    private let logger: Logger
    /// How long one watch request stays open: also the longest a silently dead connection goes unnoticed (with
    /// the client's 30 s of slack).
    let watchSeconds: Int

    public init(leases: any LeaseClient, logger: Logger, watchSeconds: Int = 60, shouldWatch: @escaping @Sendable () -> Bool = { true }) {
        self.leases = leases
        self.logger = logger
        self.watchSeconds = watchSeconds
        self.shouldWatch = shouldWatch
    }

    /// The copies as the watch has them, nil while it cannot vouch for them.
    public var current: Current? {
        state.withLock { $0.live ? Current(copies: $0.copies, generation: $0.generation) : nil }
    }

    /// `current`'s generation, without taking the copies.
    public var generation: Int? { state.withLock { $0.live ? $0.generation : nil } }

    /// Points each copy whose text is `files`' text of that name at that same string (`PublishedDefinitions.shareTexts`).
    public func shareTexts(with files: [String: String]) {
        state.withLock { PublishedDefinitions.shareTexts(of: &$0.copies, with: files) }
    }

    /// Waits (up to `timeout` seconds) until the first list was tried: at start, the publisher takes the copies from
    /// it rather than reading every copy a second time at the same moment.
    public func waitForFirstList(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        wake.lock()
        while !state.withLock({ $0.tried || $0.stopped }), wake.wait(until: deadline) {}
        wake.unlock()
    }

    public func stop() {
        wake.lock()
        state.withLock { $0.stopped = true }
        wake.broadcast()
        wake.unlock()
    }

    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Lists, then watches from the list's resourceVersion, until `stop()`.
    public func run() {
        var backoff = 1.0
        var resourceVersion: String?
        let namespace = LeaderElectionSettings.namespace, selector = PublishedDefinitions.selector
        while !stopped {
            guard shouldWatch() else {
                state.withLock { $0.live = false }
                resourceVersion = nil
                pause(seconds: 10)
                continue
            }
            do {
                if resourceVersion == nil {
                    defer { triedOnce() }
                    let listed = try leases.listLeasesForWatch(namespace: namespace, labelSelector: selector)
                    replace(with: PublishedDefinitions.copies(of: listed.leases))
                    resourceVersion = listed.resourceVersion
                }
                let outcome = try leases.watchLeases(namespace: namespace, labelSelector: selector, from: resourceVersion ?? "",
                                                     timeoutSeconds: watchSeconds) { change in
                    if !change.resourceVersion.isEmpty { resourceVersion = change.resourceVersion }
                    apply(change)
                }
                backoff = 1
                if outcome == .expired {
                    logger.info("Watch expired; listing again", metadata: ["watch.resource": "definition leases"])
                    resourceVersion = nil
                }
            } catch {
                state.withLock { $0.live = false }
                resourceVersion = nil
                logger.debug("Watch interrupted; listing again", metadata: ["watch.resource": "definition leases", "error": "\(error)"])
                pause(seconds: backoff)
                backoff = min(backoff * 2, 30)
            }
        }
        state.withLock { $0.live = false }
    }

    private func triedOnce() {
        guard !state.withLock({ $0.tried }) else { return }
        wake.lock()
        state.withLock { $0.tried = true }
        wake.broadcast()
        wake.unlock()
    }

    private func replace(with copies: [String: PublishedDefinitions.Copy]) {
        state.withLock { s in
            if s.copies != copies { s.generation += 1 }
            s.copies = copies
            s.live = true
        }
    }

    private func apply(_ change: LeaseChange) {
        guard change.name.hasPrefix(PublishedDefinitions.namePrefix) else { return }
        let name = String(change.name.dropFirst(PublishedDefinitions.namePrefix.count))
        state.withLock { s in
            var copy: PublishedDefinitions.Copy?
            switch change.kind {
            case .put(let lease):
                copy = PublishedDefinitions.copy(name, from: lease)
                // A renewal or a removal marker leaves the text: the one held (shared with the node's file) stays.
                if let old = s.copies[name], old.text == copy?.text { copy?.text = old.text }
            case .deleted: copy = nil
            case .progress: return
            }
            guard s.copies[name] != copy else { return }
            s.copies[name] = copy
            s.generation += 1
        }
    }

    private func pause(seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        wake.lock()
        while !stopped, wake.wait(until: deadline) {}
        wake.unlock()
    }
}
