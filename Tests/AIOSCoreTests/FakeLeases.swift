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
    }

    private let state = Mutex(State())

    func lease(_ name: String) -> LeaseRecord? { state.withLock { $0.leases[name] } }
    /// "HOLDER NAME" of every successful write, in order.
    var writes: [String] { state.withLock { $0.writes } }
    /// The label selector of every list call, in order.
    var lists: [String] { state.withLock { $0.lists } }
    /// List calls that read every published definition copy.
    var definitionCopyReads: Int { lists.filter { $0 == PublishedDefinitions.selector }.count }

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
                if s.leases.removeValue(forKey: "\(namespace)/\(name)") != nil { s.writes.append("\(who) \(name) deleted") }
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
                s.writes.append("\(who) \(name)")
                return stored
            }
        }

        func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord] {
            try reachable()
            let wanted = labelSelector.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
            return store.state.withLock { s in
                s.lists.append(labelSelector)
                var found: [String: LeaseRecord] = [:]
                for (key, lease) in s.leases where key.hasPrefix(namespace + "/") && wanted.allSatisfy({ lease.labels[$0[0]] == $0[1] }) {
                    found[String(key.dropFirst(namespace.count + 1))] = lease
                }
                return found
            }
        }
    }
}

/// A clock the test moves by hand.
final class FakeClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
