@testable import AIOSCore
@testable import AIOSDaemon
import Foundation
import Logging
import Synchronization
import Testing

/// Two aiosd on one cluster through the daemon's own pieces (runner, election, publisher) over one fake API
/// server: only the leader syncs, a follower says who does and writes nothing, and a definition file added on
/// one node is synced by the leader from its published copy.
@Suite struct SyncElectionTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A node's configuration: its name, its own definitions directory, the shared fake cluster's kubeconfig.
    static func configuration(_ h: SyncHarness, node: String) throws -> AgentConfiguration {
        var configuration = h.configuration
        configuration.cluster.nodeName = node
        configuration.cluster.secretSyncs = .off
        configuration.sync.definitions = h.directory.file("secrets.d-\(node)")
        try FileManager.default.createDirectory(atPath: configuration.sync.definitions, withIntermediateDirectories: true)
        return configuration
    }

    static func writeDefinition(_ configuration: AgentConfiguration, _ name: String, vault: String = "kv-one") throws {
        let text = "keyvaultName: \(vault)\nobjects:\n  - objectName: db-password\nsecretObject:\n  namespace: apps\n  data:\n    - {sourcePath: db-password, targetKey: password}\n"
        let path = "\(configuration.sync.definitions)/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        // Its mode set, not left to the umask: an in-process ControlServer of a test running in parallel sets the
        // process-wide umask to 0117 while it binds its socket, and a group-writable definition file is refused.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    }

    /// Node "a" with one definition file, `db`, and its publisher over a fresh fake API server.
    static func publisherAlone(_ h: SyncHarness) throws -> (store: FakeLeaseStore, config: AgentConfiguration, publisher: DefinitionPublisher) {
        let store = FakeLeaseStore()
        let config = try configuration(h, node: "a")
        try writeDefinition(config, "db")
        return (store, config, DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), configuration: { config }, logger: logger))
    }

    @Test func onlyTheLeaderSyncsAndAFollowerNamesItAndTouchesNothing() async throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "v1")
        let store = FakeLeaseStore()
        let configA = try Self.configuration(h, node: "a"), configB = try Self.configuration(h, node: "b")
        try Self.writeDefinition(configA, "db")
        try Self.writeDefinition(configB, "db")
        let a = SyncElection(configuration: { configA }, leases: FakeLeaseStore.Connection(store, who: "a"))
        let b = SyncElection(configuration: { configB }, leases: FakeLeaseStore.Connection(store, who: "b"))
        #expect(a.step() == [.becameLeader])
        #expect(b.step() == [.newLeader("a")])
        #expect(a.roleText == "leader" && b.roleText == "follower (leader: a)")
        #expect(a.leaderGauge == 1 && b.leaderGauge == 0)

        let follower = SecretSyncRunner(engine: h.engine, logger: Self.logger, tasks: TaskSupervisor(), configuration: { configB }, election: b)
        let skipped = try await follower.cycle(force: true, reason: "test")
        #expect(skipped.standDown == "follower (leader: a)" && skipped.outcomes.isEmpty)
        #expect(h.kube.requests.isEmpty, "a follower's cycle sends nothing: \(h.kube.requests)")

        let leader = SecretSyncRunner(engine: h.engine, logger: Self.logger, tasks: TaskSupervisor(), configuration: { configA }, election: a)
        let synced = try await leader.cycle(force: false, reason: "test")
        #expect(synced.standDown == nil && synced.outcomes.map(\.result) == [.applied])
        #expect(h.value("apps", "db", "password") == "v1")
    }

    @Test func aNodeWithoutK3sStillRunsItsCycleAndElectionOffMeansAlone() throws {
        let h = try SyncHarness()
        var configuration = try Self.configuration(h, node: "w")
        configuration.sync.kubeconfig = h.directory.file("no-such-k3s.yaml")
        let noK3s = configuration
        let election = SyncElection(configuration: { noK3s }, leases: FakeLeaseStore.Connection(FakeLeaseStore(), who: "w"))
        #expect(election.nodeRole == NodeRole.none)
        #expect(election.standDownReason == nil, "no K3s here: the cycle runs and reports the API server unreachable, as before")
        #expect(election.step() == nil)
        configuration.cluster.leaderElection.mode = .off
        let off = configuration
        let alone = SyncElection(configuration: { off }, leases: FakeLeaseStore.Connection(FakeLeaseStore(), who: "w"))
        #expect(alone.roleText.hasPrefix("single node") && alone.mayWrite && alone.leaderGauge == 1)
    }

    /// The role is looked up once per `roleLookupInterval`, not at every write the fence checks; K3s installed
    /// afterwards (its kubeconfig written) shows once the interval has passed.
    @Test func theNodeRoleIsLookedUpAgainAfterItsInterval() throws {
        let h = try SyncHarness()
        var configuration = try Self.configuration(h, node: "w")
        let kubeconfig = h.directory.file("k3s-later.yaml")
        configuration.sync.kubeconfig = kubeconfig
        let later = configuration
        let election = SyncElection(configuration: { later }, leases: FakeLeaseStore.Connection(FakeLeaseStore(), who: "w"))
        let looked = ContinuousClock.now
        #expect(election.nodeRole == NodeRole.none)
        try "apiVersion: v1\n".write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        if ContinuousClock.now - looked < SyncElection.roleLookupInterval / 2 {
            #expect(election.nodeRole == NodeRole.none, "within the interval the role looked up is used")
        }
        Thread.sleep(forTimeInterval: Double(SyncElection.roleLookupInterval.components.seconds))
        #expect(election.nodeRole == .server)
    }

    @Test func aDefinitionAddedOnOneNodeIsPublishedAndSyncedByTheLeaderAlsoWhenThatNodeIsGone() async throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "v1")
        let store = FakeLeaseStore()
        let configA = try Self.configuration(h, node: "a"), configC = try Self.configuration(h, node: "c")
        try Self.writeDefinition(configC, "db")  // added on c only
        let publisherC = DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "c"), configuration: { configC }, logger: Self.logger)
        #expect(try !publisherC.reconcile(node: "c"), "its own copy changes nothing c syncs")
        let copy = try #require(store.lease("kube-system/aios-definition-db"))
        #expect(copy.holderIdentity == "c" && copy.annotations[PublishedDefinitions.definitionAnnotation]?.contains("kv-one") == true)
        #expect(h.kube.requests.isEmpty, "a published definition is no Secret")

        // c is gone; a leads and syncs the union.
        let a = SyncElection(configuration: { configA }, leases: FakeLeaseStore.Connection(store, who: "a"))
        a.step()
        let publisherA = DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), configuration: { configA }, logger: Self.logger)
        #expect(try publisherA.reconcile(node: "a"))
        #expect(try !publisherA.reconcile(node: "a"), "nothing changed: nothing to report")
        #expect(store.lease("kube-system/aios-definition-db") != nil, "a does not withdraw what c published")
        let leader = SecretSyncRunner(engine: h.engine, logger: Self.logger, tasks: TaskSupervisor(), configuration: { configA }, election: a, publisher: publisherA)
        final class Seen: Sendable { let running = Mutex<[Bool]>([]) }
        let seen = Seen()
        let report = try await leader.cycle(force: false, reason: "test") { _ in
            seen.running.withLock { $0.append(publisherA.syncCycleIsRunning) }
        }
        #expect(report.outcomes.map(\.name) == ["db"] && report.outcomes.map(\.result) == [.applied])
        #expect(seen.running.withLock { $0 } == [true] && !publisherA.syncCycleIsRunning, "the publisher knows a cycle runs (its quiet read waits)")
        #expect(h.value("apps", "db", "password") == "v1")

        // The same name with other content on a: c's copy stays in force, a's file is reported, not published.
        try Self.writeDefinition(configA, "db", vault: "kv-two")
        _ = try publisherA.reconcile(node: "a")
        #expect(publisherA.conflicts == ["db": "c"])
        #expect(leader.allDefinitions().all.first?.keyvaultName == "kv-one")

        // c is back and removes its file: c withdraws its copy.
        try NodeHeartbeat(name: "c", role: .server, version: "test", syncRole: "follower", candidate: true)
            .publish(to: FakeLeaseStore.Connection(store, who: "c"), at: Date())
        try FileManager.default.removeItem(atPath: "\(configC.sync.definitions)/db.yaml")
        _ = try publisherC.reconcile(node: "c")
        #expect(store.lease("kube-system/aios-definition-db") == nil)
        #expect(try publisherA.reconcile(node: "a"), "a sees the copy go")
        #expect(leader.allDefinitions().all.first?.keyvaultName == "kv-two", "now a's own file is in force")
    }

    /// One Lease per definition: a server alone in the cluster whose files did not change does not read them all at
    /// every heartbeat, but reads them as soon as its files change or another server's heartbeat is current.
    @Test func aServerAloneReadsTheCopiesOnlyWhenItsFilesChangeOrAnotherServerIsLive() throws {
        let h = try SyncHarness()
        let store = FakeLeaseStore()
        let configA = try Self.configuration(h, node: "a"), configB = try Self.configuration(h, node: "b")
        try Self.writeDefinition(configA, "db")
        let a = DefinitionPublisher(leases: FakeLeaseStore.Connection(store, who: "a"), configuration: { configA }, logger: Self.logger)

        #expect(try !a.reconcile(node: "a"))
        let first = store.definitionCopyReads
        #expect(first >= 1 && store.lease("kube-system/aios-definition-db") != nil)
        for _ in 0..<5 { #expect(try !a.reconcile(node: "a")) }
        #expect(store.definitionCopyReads == first, "alone, files unchanged: the copies are not read again")

        // Another server beats and publishes a definition: a reads the copies at its next look and sees it.
        let bLeases = FakeLeaseStore.Connection(store, who: "b")
        try NodeHeartbeat(name: "b", role: .server, version: "test", syncRole: "follower", candidate: true).publish(to: bLeases, at: Date())
        try Self.writeDefinition(configB, "web")
        _ = try DefinitionPublisher(leases: bLeases, configuration: { configB }, logger: Self.logger).reconcile(node: "b")
        #expect(try a.reconcile(node: "a"), "b is live: a reads the copies and sees web")
        #expect(store.definitionCopyReads > first)

        // b gone again (no heartbeat); a's own file edited: published at its next look all the same.
        try bLeases.deleteLease(namespace: "kube-system", name: NodeHeartbeat.leaseName(node: "b"))
        _ = try a.reconcile(node: "a")
        try Self.writeDefinition(configA, "db", vault: "kv-two")
        _ = try a.reconcile(node: "a")
        #expect(store.lease("kube-system/aios-definition-db")?.annotations[PublishedDefinitions.definitionAnnotation]?.contains("kv-two") == true)

        // Alone still: a file added is published at the next look, and withdrawn at the look after its removal.
        try Self.writeDefinition(configA, "cache")
        _ = try a.reconcile(node: "a")
        #expect(store.lease("kube-system/aios-definition-cache") != nil)
        let directory = SyncDefinitionDirectory(path: configA.sync.definitions, defaultNamespace: configA.sync.defaultNamespace)
        try FileManager.default.removeItem(atPath: directory.file(for: "cache"))
        _ = try a.reconcile(node: "a")
        #expect(store.lease("kube-system/aios-definition-cache") == nil)
        #expect(store.lease("kube-system/aios-definition-db") != nil)
    }

    /// A server alone reads every copy once a `quietListInterval`; while its own sync cycle runs it puts that read
    /// off, by one more interval at most, but never a read its own files' change calls for.
    @Test func aServerAlonePutsItsQuietReadOffWhileItsCycleRuns() throws {
        let h = try SyncHarness()
        let (store, config, a) = try Self.publisherAlone(h)
        let interval = DefinitionPublisher.quietListInterval, start = ContinuousClock.now

        _ = try a.reconcile(node: "a", now: start)
        var reads = store.definitionCopyReads
        _ = try a.reconcile(node: "a", now: start + interval / 2)
        #expect(store.definitionCopyReads == reads, "within the interval")
        _ = try a.reconcile(node: "a", now: start + interval)
        #expect(store.definitionCopyReads > reads, "no cycle running: read once the interval is over")
        reads = store.definitionCopyReads

        let read = start + interval
        a.syncCycle(running: true)
        _ = try a.reconcile(node: "a", now: read + interval)
        _ = try a.reconcile(node: "a", now: read + interval * 2 - .seconds(1))
        #expect(store.definitionCopyReads == reads, "a cycle running: put off")
        _ = try a.reconcile(node: "a", now: read + interval * 2)
        #expect(store.definitionCopyReads > reads, "put off by one interval at most")
        reads = store.definitionCopyReads

        // Its own file changed: published and read at once, cycle or not.
        try Self.writeDefinition(config, "db", vault: "kv-two")
        _ = try a.reconcile(node: "a", now: read + interval * 2 + .seconds(1))
        #expect(store.definitionCopyReads > reads)
        #expect(store.lease("kube-system/aios-definition-db")?.annotations[PublishedDefinitions.definitionAnnotation]?.contains("kv-two") == true)
        reads = store.definitionCopyReads

        a.syncCycle(running: false)
        _ = try a.reconcile(node: "a", now: read + interval * 3 + .seconds(1))
        #expect(store.definitionCopyReads > reads, "the cycle over: once an interval again")
    }

    /// The files are loaded again only when inotify saw their directory change (a load stats every file): an edit
    /// in place, a mode change, a file renamed in, the directory replaced are all published at the next look.
    @Test func unchangedFilesAreNotLoadedAgainAndEveryKindOfChangeIs() throws {
        let h = try SyncHarness()
        let (store, config, a) = try Self.publisherAlone(h)
        func published(_ name: String) -> String? {
            store.lease("kube-system/aios-definition-\(name)")?.annotations[PublishedDefinitions.definitionAnnotation]
        }
        let file = SyncDefinitionDirectory(path: config.sync.definitions, defaultNamespace: config.sync.defaultNamespace).file(for: "db")

        _ = try a.reconcile(node: "a")
        #expect(a.directoryLoads == 1 && published("db")?.contains("kv-one") == true)
        for _ in 0..<5 { _ = try a.reconcile(node: "a") }
        #expect(a.directoryLoads == 1, "nothing changed: the last load is used again")

        // Written in place (same inode, same size), as an editor or `sed -i`-less tool would.
        let handle = try #require(FileHandle(forUpdatingAtPath: file))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let offset = try #require(text.utf8.firstRange(of: "kv-one".utf8)).lowerBound
        try handle.seek(toOffset: UInt64(text.utf8.distance(from: text.utf8.startIndex, to: offset)))
        handle.write(Data("kv-two".utf8))
        try handle.close()
        _ = try a.reconcile(node: "a")
        #expect(a.directoryLoads == 2 && published("db")?.contains("kv-two") == true, "an edit in place is published")

        // Made group-writable: refused (a broken file keeps its copy and is not published); back to 0644: fine.
        try FileManager.default.setAttributes([.posixPermissions: 0o664], ofItemAtPath: file)
        _ = try a.reconcile(node: "a")
        #expect(a.directoryLoads == 3)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)

        // A file renamed into the directory.
        try Self.writeDefinition(config, "web")
        _ = try a.reconcile(node: "a")
        #expect(published("web") != nil)

        // The directory replaced by another one holding only `cache`: db and web are withdrawn, cache published.
        let replacement = config.sync.definitions + ".new"
        try FileManager.default.createDirectory(atPath: replacement, withIntermediateDirectories: true)
        var other = config
        other.sync.definitions = replacement
        try Self.writeDefinition(other, "cache")
        try FileManager.default.removeItem(atPath: config.sync.definitions)
        try FileManager.default.moveItem(atPath: replacement, toPath: config.sync.definitions)
        _ = try a.reconcile(node: "a")
        #expect(published("cache") != nil && published("db") == nil && published("web") == nil)
        let loads = a.directoryLoads
        _ = try a.reconcile(node: "a")
        #expect(a.directoryLoads == loads, "the replacement is watched in turn")
        try Self.writeDefinition(config, "db")
        _ = try a.reconcile(node: "a")
        #expect(published("db") != nil)
    }
}
