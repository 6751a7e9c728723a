@testable import AIOSCore
import Foundation
import Synchronization

/// An in-memory `coordination.k8s.io/v1` Lease store answering as the API server does: a new resourceVersion on
/// every write, 409 AlreadyExists on creating a name that exists, 409 Conflict on an update whose
/// resourceVersion is not the current one. Each node talks to it through its own `Connection`, which a test can
/// cut (a partition) or make run something between a read and the next write (a racing node).
final class FakeLeaseStore: Sendable {
    private struct State {
        var leases: [String: LeaseRecord] = [:]
        var version = 1
        var writes: [String] = []
        var lists: [String] = []
        /// Every change, for watches: the resourceVersion it took, "namespace/name", the Lease (nil: deleted).
        var history: [(version: Int, key: String, lease: LeaseRecord?)] = []
        /// A watch from a resourceVersion below this gets `.expired` (the API server's history no longer reaches it).
        var historyFloor = 0
        var watches = 0
        /// Open watches deliver nothing while set (a watch cache that lags behind).
        var watchesHeld = false
    }

    private let state = Mutex(State())

    func lease(_ name: String) -> LeaseRecord? { state.withLock { $0.leases[name] } }
    /// "HOLDER NAME" of every successful write, in order.
    var writes: [String] { state.withLock { $0.writes } }
    /// The label selector of every list call, in order.
    var lists: [String] { state.withLock { $0.lists } }
    /// List calls that read every published definition copy.
    var definitionCopyReads: Int { lists.filter { $0 == PublishedDefinitions.selector }.count }
    /// Watch requests made (each ends after its `timeoutSeconds`).
    var watchRequests: Int { state.withLock { $0.watches } }
    /// Forgets the history up to now: a watch from an older resourceVersion is told to list again.
    func forgetHistory() { state.withLock { $0.historyFloor = $0.version } }
    /// Open watches deliver nothing while held; a watch that fell below the history meanwhile is told to list again.
    func holdWatches(_ held: Bool) { state.withLock { $0.watchesHeld = held } }

    final class Connection: LeaseClient, Sendable {
        let store: FakeLeaseStore
        let who: String
        private let cut = Mutex(false)
        private let afterNextGet = Mutex<(@Sendable () -> Void)?>(nil)

        init(_ store: FakeLeaseStore, who: String) {
            self.store = store
            self.who = who
        }

        var partitioned: Bool {
            get { cut.withLock { $0 } }
            set { cut.withLock { $0 = newValue } }
        }

        /// Runs `body` once, right after this connection's next successful read.
        func afterNextGet(_ body: @escaping @Sendable () -> Void) { afterNextGet.withLock { $0 = body } }

        private func reachable() throws(KubernetesError) {
            if partitioned { throw KubernetesError(code: 0, reason: "Unreachable", message: "connection timed out") }
        }

        func getLease(namespace: String, name: String) throws(KubernetesError) -> LeaseRecord? {
            try reachable()
            let record = store.state.withLock { $0.leases["\(namespace)/\(name)"] }
            afterNextGet.withLock { body in defer { body = nil }; return body }?()
            return record
        }

        func createLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
            try write(namespace, name, record) { current throws(KubernetesError) in
                if current != nil { throw KubernetesError(code: 409, reason: "AlreadyExists", message: "leases \"\(name)\" already exists") }
            }
        }

        func updateLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord {
            try write(namespace, name, record) { current throws(KubernetesError) in
                guard let current else { throw KubernetesError(code: 404, reason: "NotFound", message: "not found") }
                guard current.resourceVersion == record.resourceVersion else {
                    throw KubernetesError(code: 409, reason: "Conflict", message: "the object has been modified")
                }
            }
        }

        func deleteLease(namespace: String, name: String) throws(KubernetesError) {
            try reachable()
            let who = self.who
            store.state.withLock { s in
                if s.leases.removeValue(forKey: "\(namespace)/\(name)") != nil {
                    s.writes.append("\(who) \(name) deleted")
                    s.version += 1
                    s.history.append((s.version, "\(namespace)/\(name)", nil))
                }
            }
        }

        /// Stores `record` under a new resourceVersion if `check` (given the current Lease) does not throw.
        private func write(_ namespace: String, _ name: String, _ record: LeaseRecord,
                           check: (LeaseRecord?) throws(KubernetesError) -> Void) throws(KubernetesError) -> LeaseRecord {
            try reachable()
            let key = "\(namespace)/\(name)"
            let who = self.who
            return try store.state.withLock { s throws(KubernetesError) -> LeaseRecord in
                try check(s.leases[key])
                s.version += 1
                var stored = record
                stored.resourceVersion = "\(s.version)"
                s.leases[key] = stored
                s.history.append((s.version, key, stored))
                s.writes.append("\(who) \(name)")
                return stored
            }
        }

        func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord] {
            try listLeasesForWatch(namespace: namespace, labelSelector: labelSelector).leases
        }

        func listLeasesForWatch(namespace: String, labelSelector: String) throws(KubernetesError) -> (leases: [String: LeaseRecord], resourceVersion: String) {
            try reachable()
            return store.state.withLock { s in
                s.lists.append(labelSelector)
                var found: [String: LeaseRecord] = [:]
                for (key, lease) in s.leases where key.hasPrefix(namespace + "/") && Self.matches(lease, labelSelector) {
                    found[String(key.dropFirst(namespace.count + 1))] = lease
                }
                return (found, "\(s.version)")
            }
        }

        /// Plays the changes after `resourceVersion` and then new ones as they come, for `timeoutSeconds`. A Lease
        /// that does not match arrives as deleted: the API server sends that only for one that stopped matching,
        /// and a watcher ignores a deletion of what it does not hold.
        func watchLeases(namespace: String, labelSelector: String, from resourceVersion: String, timeoutSeconds: Int,
                         onChange: (LeaseChange) -> Void) throws(KubernetesError) -> KubernetesWatch.Outcome {
            try reachable()
            var seen = Int(resourceVersion) ?? 0
            let expired = store.state.withLock { s in
                s.watches += 1
                return seen < s.historyFloor
            }
            if expired { return .expired }
            let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
            while Date() < deadline {
                try reachable()
                let (changes, expired) = store.state.withLock { s in
                    s.watchesHeld ? ([], false) : (s.history.filter { $0.version > seen && $0.key.hasPrefix(namespace + "/") }, seen < s.historyFloor)
                }
                // The API server ends a watch that fell behind its history with a 410 (an ERROR event).
                if expired { return .expired }
                for change in changes {
                    seen = change.version
                    let name = String(change.key.dropFirst(namespace.count + 1))
                    if let lease = change.lease, Self.matches(lease, labelSelector) {
                        onChange(LeaseChange(name: name, kind: .put(lease), resourceVersion: "\(change.version)"))
                    } else {
                        onChange(LeaseChange(name: name, kind: .deleted, resourceVersion: "\(change.version)"))
                    }
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return .ended
        }

        private static func matches(_ lease: LeaseRecord, _ labelSelector: String) -> Bool {
            labelSelector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
                .allSatisfy { lease.labels[$0[0]] == $0[1] }
        }
    }
}

/// A clock the test moves by hand.
final class FakeClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
