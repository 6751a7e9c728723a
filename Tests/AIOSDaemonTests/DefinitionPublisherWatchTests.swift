@testable import AIOSCore
@testable import AIOSDaemon
import Foundation
import Logging
import Testing

/// The publisher with the watch of the published copies, as aiosd runs it: heartbeats read no copy, also with
/// another server live; another node's publication is seen through the watch; without a live watch the
/// publisher reads the copies itself again.
@Suite struct DefinitionPublisherWatchTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return false
    }

    @Test func heartbeatsReadNoCopyAndSeeOtherNodesThroughTheWatch() throws {
        let h = try SyncHarness()
        let store = FakeLeaseStore()
        let config = try SyncElectionTests.configuration(h, node: "a")
        try SyncElectionTests.writeDefinition(config, "db")
        let watchConnection = FakeLeaseStore.Connection(store, who: "a")
        let watch = PublishedDefinitionsWatch(leases: watchConnection, logger: Self.logger, watchSeconds: 1)
        let done = DispatchSemaphore(value: 0)
        Thread { watch.run(); done.signal() }.start()
        defer {
            watch.stop()
            _ = done.wait(timeout: .now() + 5)
        }
        let a = DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), watched: watch, configuration: { config }, logger: Self.logger)
        // Another server is live: without the watch, every heartbeat would read every copy.
        let b = FakeLeaseStore.Connection(store, who: "b")
        try NodeHeartbeat(name: "b", role: .server, version: "test", syncRole: "follower", candidate: true).publish(to: b, at: Date())
        #expect(Self.eventually { watch.current != nil })

        let start = ContinuousClock.now
        _ = try a.reconcile(node: "a", now: start)
        #expect(store.lease("kube-system/aios-definition-db") != nil, "published")
        #expect(Self.eventually { watch.current?.copies["db"] != nil })
        _ = try a.reconcile(node: "a", now: start + .seconds(10))
        let reads = store.definitionCopyReads
        for beat in 2...8 {
            #expect(try a.reconcile(node: "a", now: start + .seconds(10 * beat)) == false)
        }
        #expect(store.definitionCopyReads == reads, "seven heartbeats over 70 s with another server live: no copy read")

        // Node b publishes a definition: seen through the watch, reported as a change, no copy read.
        let text = try String(contentsOfFile: "\(config.sync.definitions)/db.yaml", encoding: .utf8).replacingOccurrences(of: "kv-one", with: "kv-two")
        try PublishedDefinitions.apply([.create(name: "queue", text: text)], node: "b", to: b)
        #expect(Self.eventually { watch.current?.copies["queue"] != nil })
        #expect(try a.reconcile(node: "a", now: start + .seconds(90)) == true)
        #expect(store.definitionCopyReads == reads)
        let merged = a.merge(SyncDefinitionDirectory.Loaded(definitions: [], invalid: []), node: "a", defaultNamespace: "default")
        #expect(merged.definitions.map(\.name) == ["queue"])
        #expect(merged.definitions.first?.keyvaultName == "kv-two")

        // The watch loses the API server: the publisher reads the copies itself again, every heartbeat while b is live.
        watchConnection.partitioned = true
        #expect(Self.eventually { watch.current == nil })
        _ = try a.reconcile(node: "a", now: start + .seconds(100))
        _ = try a.reconcile(node: "a", now: start + .seconds(110))
        #expect(store.definitionCopyReads == reads + 2)
    }

    /// After a restart, the first heartbeat takes the copies from the watch's first list instead of reading every
    /// copy a second time at the same moment.
    @Test func aRestartedServerReadsTheCopiesOnce() throws {
        let h = try SyncHarness()
        let store = FakeLeaseStore()
        let config = try SyncElectionTests.configuration(h, node: "a")
        try SyncElectionTests.writeDefinition(config, "db")
        _ = try DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), configuration: { config }, logger: Self.logger).reconcile(node: "a")
        let before = store.definitionCopyReads

        // aiosd starts again: the watch and the first heartbeat at once.
        let watch = PublishedDefinitionsWatch(leases: FakeLeaseStore.Connection(store, who: "a"), logger: Self.logger, watchSeconds: 1)
        let done = DispatchSemaphore(value: 0)
        let a = DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), watched: watch, configuration: { config }, logger: Self.logger)
        Thread { watch.run(); done.signal() }.start()
        defer {
            watch.stop()
            _ = done.wait(timeout: .now() + 5)
        }
        #expect(try a.reconcile(node: "a") == false)
        #expect(Self.eventually { watch.current != nil })
        #expect(store.definitionCopyReads == before + 1, "the watch's list only: \(store.lists)")
        #expect(store.lease("kube-system/aios-definition-db")?.holderIdentity == "a")
    }
}
