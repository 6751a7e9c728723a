@testable import AIOSCore
import Foundation

/// An in-memory cluster for rollouts: the record with a resourceVersion (a write at a stale version is refused,
/// as the API server answers 409), the server Nodes with their Ready condition, and the restart Lease with an
/// expiry on a clock the test moves.
final class FakeRolloutCluster: K3sRolloutStore, K3sServerDirectory, K3sRestartLock, @unchecked Sendable {
    private let lock = NSLock()
    private var record: (text: String, version: Int)?
    private var versionCounter = 0
    private var nodes: [String: Bool]
    private var lease: (holder: String, until: Date)?
    private var _now = Date(timeIntervalSince1970: 1_800_000_000)
    /// Every holder that took the lock, in order.
    private(set) var acquisitions: [String] = []
    /// Called before each save: a test writes the record behind the caller's back (a conflict).
    var beforeSave: (() -> Void)?

    init(servers: [String]) { nodes = Dictionary(uniqueKeysWithValues: servers.map { ($0, true) }) }

    var now: Date { lock.withLock { _now } }
    func advance(_ seconds: Double) { lock.withLock { _now = _now.addingTimeInterval(seconds) } }
    func setReady(_ node: String, _ ready: Bool) { lock.withLock { nodes[node] = ready } }
    func isReady(_ node: String) -> Bool { lock.withLock { nodes[node] ?? false } }
    var holder: String? { lock.withLock { lease.flatMap { $0.until > _now ? $0.holder : nil } } }

    var rollout: K3sRollout? { lock.withLock { record.flatMap { try? K3sRollout.decode($0.text) } } }

    /// Writes the record as someone else would (kubectl, or an aiosd that died after writing it).
    func put(_ rollout: K3sRollout) {
        lock.withLock {
            versionCounter += 1
            record = (try! rollout.encoded(), versionCounter)
        }
    }

    func takeLease(_ holder: String, for seconds: Double) { lock.withLock { lease = (holder, _now.addingTimeInterval(seconds)) } }

    // MARK: K3sRolloutStore

    func load() throws(K3sRolloutError) -> (rollout: K3sRollout, version: String)? {
        guard let (text, version) = lock.withLock({ record }) else { return nil }
        return (try K3sRollout.decode(text), String(version))
    }

    func save(_ rollout: K3sRollout, replacing version: String?) throws(K3sRolloutError) -> Bool {
        if let beforeSave {
            self.beforeSave = nil
            beforeSave()
        }
        let text = try rollout.encoded()
        return lock.withLock {
            guard record.map(\.version).map(String.init) == version else { return false }
            versionCounter += 1
            record = (text, versionCounter)
            return true
        }
    }

    // MARK: K3sServerDirectory

    func servers() throws(K3sRolloutError) -> [K3sServerNode] {
        lock.withLock { nodes.map { K3sServerNode(name: $0.key, ready: $0.value) }.sorted { $0.name < $1.name } }
    }

    // MARK: K3sRestartLock

    func acquire(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool {
        lock.withLock {
            if let lease, lease.holder != holder, lease.until > _now { return false }
            lease = (holder, _now.addingTimeInterval(Double(duration.components.seconds)))
            acquisitions.append(holder)
            return true
        }
    }

    func renew(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool {
        lock.withLock {
            guard let lease, lease.holder == holder else { return false }
            self.lease = (holder, _now.addingTimeInterval(Double(duration.components.seconds)))
            return true
        }
    }

    func release(holder: String) throws(K3sRolloutError) {
        lock.withLock { if lease?.holder == holder { lease = nil } }
    }
}

/// One server: its in-memory K3s host and the real workflow on it, seen by the cluster as NotReady while its
/// K3s restarts. Counts how many servers change at once, and lets a test act while a change is under way.
final class FakeServer: K3sLocalChanger, @unchecked Sendable {
    let name: String
    let host: FakeK3sHost
    let cluster: FakeRolloutCluster
    let tracker: ChangeTracker
    /// Runs while this server's change is under way (other servers poll then).
    var during: () -> Void = {}
    private(set) var applied = 0

    init(_ name: String, cluster: FakeRolloutCluster, tracker: ChangeTracker, host: FakeK3sHost = FakeK3sHost()) {
        self.name = name
        self.host = host
        self.cluster = cluster
        self.tracker = tracker
    }

    func apply(_ change: K3sDesiredChange) -> K3sLocalChangeResult {
        applied += 1
        tracker.begin(name, readyOthers: cluster.serversReady(except: name))
        cluster.setReady(name, false)
        during()
        let result = K3sWorkflowChanger(workflow: host.workflow(), observer: RecordingObserver()).apply(change)
        cluster.setReady(name, host.isReady())
        tracker.end(name)
        return result
    }

    func agent(files: FileTrust = .trusting) -> K3sRolloutAgent {
        K3sRolloutAgent(node: name, store: cluster, directory: cluster, lock: cluster, local: self, lockDuration: .seconds(600), files: files,
                        now: { [cluster] in cluster.now })
    }
}

/// Which servers were changing at the same time, and whether every other server was Ready when one began.
final class ChangeTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var active: Set<String> = []
    private(set) var order: [String] = []
    private(set) var mostAtOnce = 0
    private(set) var begunWithOtherNotReady: [String] = []

    func begin(_ name: String, readyOthers: Bool) {
        lock.withLock {
            active.insert(name)
            order.append(name)
            mostAtOnce = max(mostAtOnce, active.count)
            if !readyOthers { begunWithOtherNotReady.append(name) }
        }
    }

    func end(_ name: String) { _ = lock.withLock { active.remove(name) } }
}

extension FakeRolloutCluster {
    func serversReady(except name: String) -> Bool {
        ((try? servers()) ?? []).allSatisfy { $0.name == name || $0.ready }
    }
}

extension FileTrust {
    /// Every path root-owned and closed to others (a name with a dot is a file, others are directories).
    static let trusting = FileTrust { path in
        Facts(kind: path.split(separator: "/").last?.contains(".") == true ? .file : .directory, owner: 0, mode: 0o755)
    }

    /// As `trusting`, but `path` is writable by everyone.
    static func worldWritable(_ path: String) -> FileTrust {
        FileTrust { candidate in
            var facts = FileTrust.trusting.inspect(candidate)
            if candidate == path { facts?.mode = 0o666 }
            return facts
        }
    }
}
