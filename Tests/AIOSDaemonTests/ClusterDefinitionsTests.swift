import AIOSAPI
@testable import AIOSCore
@testable import AIOSDaemon
import Foundation
import Logging
import Testing

/// `secret add` and `secret remove` on servers of one cluster, through the real handlers, runners and
/// publishers over one fake API server: a definition is published the moment it is added (no heartbeat
/// needed), a name another server added is refused, and a definition can be removed from any server: its copy is
/// marked removed, the leader stops syncing it, and every server holding that file removes it when it next looks.
@Suite struct ClusterDefinitionsTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let lease = "kube-system/aios-definition-db"

    struct Node {
        let name: String
        let configuration: AgentConfiguration
        let election: SyncElection
        let publisher: DefinitionPublisher
        let runner: SecretSyncRunner

        init(_ h: SyncHarness, _ store: FakeLeaseStore, _ name: String) throws {
            let configuration = try SyncElectionTests.configuration(h, node: name)
            let leases = FakeLeaseStore.Connection(store, who: name)
            self.name = name
            self.configuration = configuration
            election = SyncElection(configuration: { configuration }, leases: leases)
            publisher = DefinitionPublisher(leases: leases, configuration: { configuration }, logger: ClusterDefinitionsTests.logger)
            runner = SecretSyncRunner(engine: h.makeEngine(statePath: h.directory.file("sync-state-\(name).json")), logger: ClusterDefinitionsTests.logger, tasks: TaskSupervisor(),
                                      configuration: { configuration }, election: election, publisher: publisher)
            // A running server's heartbeat (its heartbeat service writes it every 10 s).
            try NodeHeartbeat(name: name, role: .server, version: "test", syncRole: "follower", candidate: true).publish(to: leases, at: Date())
        }

        var hasFile: Bool { FileManager.default.fileExists(atPath: "\(configuration.sync.definitions)/db.yaml") }

        func add(vault: String = "kv-one") async throws(APIError) -> SecretAddResponse {
            let definition = SecretDefinitionInfo(
                name: "db", keyvaultName: vault, objects: [.init(objectName: "db-password")],
                secretObject: .init(namespace: "apps", data: [.init(sourcePath: "db-password", targetKey: "password")]))
            let reply = try await SecretAddHandler(runner: runner).handle(request(.secretAdd, SecretAddRequest(definition: definition)))
            return try! APICoding.decoder().decode(SecretAddResponse.self, from: Data(reply.body))
        }

        func remove(_ name: String = "db") async throws(APIError) -> SecretRemoveResponse {
            let reply = try await SecretRemoveHandler(runner: runner).handle(request(.secretRemove, SecretRemoveRequest(), parameters: ["name": name]))
            return try! APICoding.decoder().decode(SecretRemoveResponse.self, from: Data(reply.body))
        }

        func show() async throws(APIError) -> SecretShowResponse {
            let reply = try await SecretHandler(runner: runner, io: BlockingPool(threads: 1)).handle(
                APIRequest(endpoint: .secret, body: [], peer: PeerCredentials(pid: 1, uid: 0, gid: 0), parameters: ["name": "db"]))
            return try! APICoding.decoder().decode(SecretShowResponse.self, from: Data(reply.body))
        }

        func request(_ endpoint: Endpoint, _ body: some Encodable, parameters: [String: String] = [:]) -> APIRequest {
            APIRequest(endpoint: endpoint, body: Array(try! APICoding.encoder().encode(body)), peer: PeerCredentials(pid: 1, uid: 0, gid: 0),
                       caller: .root, parameters: parameters)
        }
    }

    @Test func addPublishesAtOnceAndRemoveWorksFromAnyServer() async throws {
        let h = try SyncHarness()
        let store = FakeLeaseStore()
        let a = try Node(h, store, "a"), b = try Node(h, store, "b"), c = try Node(h, store, "c")
        #expect(a.election.step() == [.becameLeader])

        // Added on c: published in the same request, before any heartbeat.
        _ = try await c.add()
        let copy = try #require(store.lease(Self.lease), "published at once")
        #expect(copy.holderIdentity == "c" && copy.annotations[PublishedDefinitions.removedByAnnotation] == nil)
        #expect(try a.publisher.reconcile(node: "a"), "the leader sees the new copy at its next look")
        #expect(a.runner.allDefinitions().all.map(\.name) == ["db"])

        // The same name with other content on b: refused, nothing written there.
        await #expect { _ = try await b.add(vault: "kv-two") } throws: { ($0 as? APIError)?.code == APIErrorCode.conflict.rawValue
            && ($0 as? APIError)?.message.contains("was added on c") == true }
        #expect(!b.hasFile)

        // A name nobody added: 404, nothing changes.
        await #expect { _ = try await b.remove("nope") } throws: { ($0 as? APIError)?.code == APIErrorCode.notFound.rawValue }
        #expect(store.lease(Self.lease)?.annotations[PublishedDefinitions.removedByAnnotation] == nil)

        // Removed on b, which has no file: the copy is marked removed and the leader stops syncing it.
        let removed = try await b.remove()
        #expect(removed.file == nil && removed.cluster?.contains("c, where it was added, removes its file") == true)
        #expect(store.lease(Self.lease)?.annotations[PublishedDefinitions.removedByAnnotation] == "b")
        #expect(try a.publisher.reconcile(node: "a"), "the leader sees the removal")
        #expect(a.runner.allDefinitions().all.isEmpty, "a removed definition is synced by no node")
        #expect(c.hasFile, "c's file stays until c's next heartbeat")

        // c's next heartbeat removes its file; the marker stays for servers that are down now.
        _ = try c.publisher.reconcile(node: "c")
        #expect(!c.hasFile)
        #expect(store.lease(Self.lease)?.annotations[PublishedDefinitions.removedByAnnotation] == "b")
        // A server that was down with the same file removes it when it starts (first reconcile).
        let d = try Node(h, store, "d")
        try SyncElectionTests.writeDefinition(d.configuration, "db")
        // 0644 whatever the process umask is meanwhile (the control server's socket setup changes it briefly).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: "\(d.configuration.sync.definitions)/db.yaml")
        _ = try d.publisher.reconcile(node: "d")
        #expect(!d.hasFile, "the removed definition does not come back from a server that was down")

        // Added again: the marker is cleared, the copy published again and in force.
        _ = try await b.add()
        #expect(b.hasFile)
        let again = try #require(store.lease(Self.lease))
        #expect(again.holderIdentity == "b" && again.annotations[PublishedDefinitions.removedByAnnotation] == nil)
        _ = try c.publisher.reconcile(node: "c")
        #expect(b.hasFile, "other servers' heartbeats leave the new file alone")
        _ = try a.publisher.reconcile(node: "a")
        #expect(a.runner.allDefinitions().all.map(\.keyvaultName) == ["kv-one"])

        // Removed where it was added: file gone at once, copy marked removed.
        let own = try await b.remove()
        #expect(own.file != nil && !b.hasFile)
        #expect(store.lease(Self.lease)?.annotations[PublishedDefinitions.removedByAnnotation] == "b")
    }

    @Test func aFollowersShowAnswersFromTheClusterAndNamesTheLeader() async throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "v1")
        let store = FakeLeaseStore()
        let a = try Node(h, store, "a"), b = try Node(h, store, "b")
        #expect(a.election.step() == [.becameLeader])
        #expect(b.election.step() == [.newLeader("a")])
        _ = try await b.add()
        _ = try a.publisher.reconcile(node: "a")

        // Before the leader synced: the follower shows the Secret as pending, not its own (empty) state.
        let before = try await b.show()
        #expect(before.syncedBy == "follower (leader: a)" && before.status.state == .pending)

        let report = try await a.runner.cycle(force: false, reason: "test")
        #expect(report.outcomes.map(\.result) == [.applied])
        let onLeader = try await a.show()
        #expect(onLeader.syncedBy == nil && onLeader.status.state == .synced)
        let onFollower = try await b.show()
        #expect(onFollower.syncedBy == "follower (leader: a)")
        #expect(onFollower.status.state == .synced, "the follower ran no cycle: this is the leader's Secret")
        #expect(onFollower.status.contentHash != nil && onFollower.status.contentHash == onLeader.status.contentHash)
    }
}
