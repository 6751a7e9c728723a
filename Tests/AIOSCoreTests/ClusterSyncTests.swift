@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

/// What makes several nodes one syncer: the content-hash key shared through the cluster (created once), so a
/// new leader writes nothing that did not change, and the fence that stops a node that is not the leader.
@Suite struct ClusterSyncTests {
    @Test func theFirstNodeCreatesTheClusterKeyFromItsOwnKeyAndANodeLosingTheRaceUsesTheWinners() throws {
        let kube = FakeKubernetes()
        let client = try kube.client()
        let mine = [UInt8](repeating: 1, count: 32), theirs = [UInt8](repeating: 2, count: 32)
        // Between this node's read (404) and its create, another node creates the key: the create gets 409.
        kube.fault = { request throws(HTTPClientError) in
            if request.method == .post && request.url.contains("/namespaces/kube-system/secrets") {
                kube.fault = nil
                kube.put(.init(namespace: "kube-system", name: ClusterHashKey.secretName, uid: "u", resourceVersion: "", type: "Opaque",
                               labels: [:], annotations: [:], data: [ClusterHashKey.dataKey: theirs]))
            }
            return nil
        }
        #expect(try ClusterHashKey.obtain(client, proposal: mine) == theirs)
        #expect(kube.requests == ["GET /api/v1/namespaces/kube-system/secrets/aios-content-hash-key",
                                  "POST /api/v1/namespaces/kube-system/secrets",
                                  "GET /api/v1/namespaces/kube-system/secrets/aios-content-hash-key"])
        // With no race, the first node's proposal becomes the cluster's key, and later reads return it.
        let other = FakeKubernetes()
        #expect(try ClusterHashKey.obtain(try other.client(), proposal: mine) == mine)
        #expect(try ClusterHashKey.obtain(try other.client(), proposal: theirs) == mine)
        #expect(other.secret("kube-system", ClusterHashKey.secretName)?.labels[SecretSyncEngine.managedByLabel] == "aiosd")
    }

    @Test func aKeyThatIsNot32BytesIsRefusedWithTheFix() throws {
        let kube = FakeKubernetes()
        kube.put(.init(namespace: "kube-system", name: ClusterHashKey.secretName, uid: "u", resourceVersion: "", type: "Opaque",
                       labels: [:], annotations: [:], data: [ClusterHashKey.dataKey: [1, 2, 3]]))
        let client = try kube.client()
        do throws(SyncIssue) {
            _ = try ClusterHashKey.obtain(client, proposal: nil)
            Issue.record("a 3-byte key was accepted")
        } catch {
            #expect(error.code == "ContentHashKeyInvalid" && error.hint?.contains("kubectl -n kube-system delete secret aios-content-hash-key") == true)
        }
    }

    @Test func aNewLeaderWithAnotherHostKeyAndNoLocalStateSeesUnchangedAndWritesNothing() throws {
        let h = try SyncHarness.synced("first")
        #expect(h.value("apps", "db", "password") == "first")
        // Another node: its own (different) host key file, an empty state file, the same cluster and vault.
        try Data([UInt8](repeating: 9, count: 32)).write(to: URL(fileURLWithPath: h.directory.file("content-hash.key")))
        try? FileManager.default.removeItem(atPath: h.directory.file("sync-state.json"))
        h.restart()
        h.kube.resetRequests()
        let report = h.run([try h.db()])
        #expect(report.outcomes.map(\.result) == [.unchanged])
        #expect(h.kube.count("PATCH") == 0 && h.kube.count("POST") == 0 && h.kube.count("DELETE") == 0, "\(h.kube.requests)")
    }

    @Test func behindAClosedFenceNothingIsWrittenAndTheOutcomeSaysWhy() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "first")
        h.fence.open = false
        let report = h.run([try h.db()])
        #expect(report.outcomes.map(\.result) == [.failed])
        #expect(report.outcomes.first?.issue?.code == "NotLeader")
        #expect(h.kube.secret("apps", "db") == nil)
        #expect(h.kube.count("PATCH") == 0)
        h.fence.open = true
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.applied])
        // Deleting a target (secret remove --delete-target) is fenced too.
        h.fence.open = false
        #expect(throws: SecretSyncEngine.notLeader) { try h.engine.deleteTarget(of: try h.db(), configuration: h.configuration) }
        #expect(h.kube.secret("apps", "db") != nil)
    }
}
