@testable import AIOSCore
import Foundation
import Logging
import Testing

/// The published definitions kept by one list and then a watch of their Leases: changes arrive without another list,
/// an expired history or an API server that went away means one list again, and nothing is vouched for meanwhile.
@Suite struct PublishedDefinitionsWatchTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A watch of `store` running on a thread of its own, with one-second watch requests.
    static func started(_ store: FakeLeaseStore) -> (watch: PublishedDefinitionsWatch, connection: FakeLeaseStore.Connection, done: DispatchSemaphore) {
        let connection = FakeLeaseStore.Connection(store, who: "watcher")
        let watch = PublishedDefinitionsWatch(leases: connection, logger: logger, watchSeconds: 1)
        let done = DispatchSemaphore(value: 0)
        Thread { watch.run(); done.signal() }.start()
        return (watch, connection, done)
    }

    /// Waits (5 s at most) until `condition` holds of the watch's copies.
    static func eventually(_ watch: PublishedDefinitionsWatch, _ condition: ([String: PublishedDefinitions.Copy]?) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition(watch.current?.copies) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    static func stop(_ started: (watch: PublishedDefinitionsWatch, connection: FakeLeaseStore.Connection, done: DispatchSemaphore)) {
        started.watch.stop()
        #expect(started.done.wait(timeout: .now() + 5) == .success, "run() returns after stop()")
    }

    /// A store where node "a" published `db` ("one"), and a watch of it that has listed: `body` gets the store,
    /// a's connection and the watch; the watch is stopped after it.
    static func watchingOneCopy(_ body: (FakeLeaseStore, FakeLeaseStore.Connection,
                                         (watch: PublishedDefinitionsWatch, connection: FakeLeaseStore.Connection, done: DispatchSemaphore)) throws -> Void) throws {
        let store = FakeLeaseStore()
        let a = FakeLeaseStore.Connection(store, who: "a")
        try PublishedDefinitions.apply([.create(name: "db", text: "one")], node: "a", to: a)
        let started = Self.started(store)
        defer { Self.stop(started) }
        #expect(Self.eventually(started.watch) { $0?["db"] != nil })
        try body(store, a, started)
    }

    @Test func changesArriveWithoutAnotherList() throws {
        let store = FakeLeaseStore()
        let a = FakeLeaseStore.Connection(store, who: "a"), b = FakeLeaseStore.Connection(store, who: "b")
        try PublishedDefinitions.apply([.create(name: "db", text: "one"), .create(name: "cache", text: "two")], node: "a", to: a)
        let started = Self.started(store)
        defer { Self.stop(started) }
        #expect(Self.eventually(started.watch) { $0?.mapValues(\.text) == ["db": "one", "cache": "two"] })
        let generation = try #require(started.watch.generation)

        // Another node publishes, one copy changes, one goes, and a heartbeat Lease (not a definition) is renewed.
        try PublishedDefinitions.apply([.create(name: "queue", text: "three")], node: "b", to: b)
        let db = try #require(PublishedDefinitions.list(a)["db"])
        try PublishedDefinitions.apply([.update(name: "db", text: "one, edited", version: db.version), .delete(name: "cache")], node: "a", to: a)
        _ = try b.createLease(namespace: LeaderElectionSettings.namespace, name: "aios-node-b", LeaseRecord(holderIdentity: "b"))
        #expect(Self.eventually(started.watch) { $0?.mapValues(\.text) == ["db": "one, edited", "queue": "three"] })
        #expect(started.watch.current?.copies["queue"]?.publisher == "b")
        #expect(try started.watch.current?.copies["db"]?.version == PublishedDefinitions.list(a)["db"]?.version)
        #expect(started.watch.generation.map { $0 > generation } == true)
        // The two lists above are this test's own; the watch listed once.
        #expect(store.definitionCopyReads == 3, "lists of the copies: \(store.lists)")
        #expect(store.watchRequests >= 1)
    }

    @Test func aGenerationStandsStillWhileNoCopyChanges() throws {
        try Self.watchingOneCopy { store, a, started in
            let generation = started.watch.generation
            // Heartbeats and election renewals are other Leases; a reconnect after the one-second window reads nothing new.
            for beat in 0..<3 {
                _ = try a.createLease(namespace: LeaderElectionSettings.namespace, name: "aios-node-\(beat)", LeaseRecord(holderIdentity: "a"))
            }
            Thread.sleep(forTimeInterval: 1.5)
            #expect(started.watch.generation == generation)
            #expect(store.definitionCopyReads == 1)
        }
    }

    @Test func anExpiredHistoryMeansOneListAgain() throws {
        try Self.watchingOneCopy { store, a, started in
            // Changed while the open watch lags, then the history no longer reaches the watch's resourceVersion: it is
            // told to list again, and the list has the change.
            store.holdWatches(true)
            try PublishedDefinitions.apply([.create(name: "cache", text: "two")], node: "a", to: a)
            store.forgetHistory()
            store.holdWatches(false)
            #expect(Self.eventually(started.watch) { $0?["cache"]?.text == "two" })
            #expect(store.definitionCopyReads == 2)
        }
    }

    @Test func nothingIsVouchedForWhileTheAPIServerIsAway() throws {
        try Self.watchingOneCopy { store, a, started in
            started.connection.partitioned = true
            #expect(Self.eventually(started.watch) { $0 == nil }, "a watch that lost the API server vouches for nothing")
            #expect(started.watch.generation == nil)
            let db = try #require(PublishedDefinitions.list(a)["db"])
            try PublishedDefinitions.apply([.update(name: "db", text: "edited while away", version: db.version)], node: "a", to: a)
            started.connection.partitioned = false
            #expect(Self.eventually(started.watch) { $0?["db"]?.text == "edited while away" })
        }
    }

    @Test func aNodeThatPublishesNothingDoesNotWatch() throws {
        let store = FakeLeaseStore()
        let watch = PublishedDefinitionsWatch(leases: FakeLeaseStore.Connection(store, who: "agent"), logger: Self.logger, watchSeconds: 1,
                                              shouldWatch: { false })
        let done = DispatchSemaphore(value: 0)
        Thread { watch.run(); done.signal() }.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(watch.current == nil)
        #expect(store.lists.isEmpty && store.watchRequests == 0)
        watch.stop()
        #expect(done.wait(timeout: .now() + 5) == .success, "stop() ends the pause at once")
    }
}
