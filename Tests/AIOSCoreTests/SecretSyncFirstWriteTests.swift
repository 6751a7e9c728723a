@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Testing

/// A first sync of many definitions into one namespace reads the namespace's Secret names once instead of each
/// target, and still never takes over a Secret someone else has: one there before the list is refused without a
/// write, one created between the list and the write is released again at once.
@Suite struct SecretSyncFirstWriteTests {
    static let names = (1...12).map { "s\($0)" }

    @Test func manyNewTargetsInANamespaceAreListedOnceNotReadEach() throws {
        let h = try SyncHarness()
        let definitions = try h.definitions(Self.names)
        h.kube.put(.init(namespace: "apps", name: "s3", uid: "u-1", resourceVersion: "", type: "Opaque", labels: ["team": "x"],
                         annotations: [:], data: ["password": Array("theirs".utf8)]))
        let report = h.run(definitions)
        #expect(report.outcomes.filter { $0.result == .applied }.count == Self.names.count - 1)
        #expect(report.outcomes.first { $0.name == "s3" }?.issue?.code == "TargetNotOwned")
        #expect(h.value("apps", "s3", "password") == "theirs" && h.kube.secret("apps", "s3")?.labels[SecretSyncEngine.managedByLabel] == nil)
        #expect(h.value("apps", "s1", "password") == "value-of-s1" && h.value("apps", "s12", "password") == "value-of-s12")
        let requests = h.kube.requests
        #expect(requests.filter { $0 == "GET /api/v1/namespaces/apps/secrets" }.count == 1, "one list of the namespace")
        #expect(requests.filter { $0.hasPrefix("GET /api/v1/namespaces/apps/secrets/") } == ["GET /api/v1/namespaces/apps/secrets/s3"],
                "a read of the one target the list had, none of the others: \(requests)")
        #expect(h.kube.count("PATCH") == Self.names.count - 1, "no write to the Secret that was there")
    }

    @Test func aFewNewTargetsAreReadEachAsBefore() throws {
        let h = try SyncHarness()
        let definitions = try h.definitions(Array(Self.names.prefix(SecretSyncEngine.namespaceListThreshold)))
        _ = h.run(definitions)
        let requests = h.kube.requests
        #expect(!requests.contains("GET /api/v1/namespaces/apps/secrets"))
        #expect(requests.filter { $0.hasPrefix("GET /api/v1/namespaces/apps/secrets/") }.count == SecretSyncEngine.namespaceListThreshold)
    }

    @Test func aSecretCreatedBetweenTheListAndTheWriteIsReleasedAgain() throws {
        let h = try SyncHarness()
        let definitions = try h.definitions(Self.names)
        let kube = h.kube
        let raced = RaceOnce()
        // Someone creates apps/s5 right before aiosd's first write to it reaches the API server.
        kube.fault = { request in
            if request.method == .patch, request.url.contains("/namespaces/apps/secrets/s5?"), raced.first() {
                kube.put(.init(namespace: "apps", name: "s5", uid: "u-2", resourceVersion: "", type: "Opaque", labels: ["team": "x"],
                               annotations: [:], data: ["other": Array("theirs".utf8)]))
            }
            return nil
        }
        let report = h.run(definitions)
        #expect(report.outcomes.first { $0.name == "s5" }?.issue?.code == "TargetNotOwned")
        let writes = kube.requests.filter { $0 == "PATCH /api/v1/namespaces/apps/secrets/s5" }
        #expect(writes.count == 2, "the first write, then the apply with no fields that releases it")
        #expect(h.value("apps", "s5", "other") == "theirs")
        #expect(report.outcomes.filter { $0.result == .applied }.count == Self.names.count - 1)
    }

    /// Two definitions naming one target: the one written second reads it first (never released as someone
    /// else's), so the Secret written first keeps its data.
    @Test func aTargetTwoDefinitionsNameIsReadNotReleased() throws {
        let h = try SyncHarness()
        var definitions = try h.definitions(Self.names)
        definitions.append(try h.definition("twin", "keyvaultName: kv-one\nobjects:\n  - objectName: s1-password\nsecretObject:\n  name: s1\n  data:\n    - {sourcePath: s1-password, targetKey: other}\n"))
        let report = h.run(definitions)
        #expect(report.outcomes.filter { $0.result == .applied }.count >= Self.names.count)
        // Which of the two writes first depends on the workers; either way each reads the target first and
        // nothing is released (a release would be a third PATCH).
        #expect(h.kube.requests.filter { $0 == "GET /api/v1/namespaces/apps/secrets/s1" }.count == 2, "both read it first")
        #expect(h.kube.requests.filter { $0 == "PATCH /api/v1/namespaces/apps/secrets/s1" }.count <= 2, "no release")
        #expect(h.kube.secret("apps", "s1")?.labels[SecretSyncEngine.managedByLabel] == "aiosd")
    }

    final class RaceOnce: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        func first() -> Bool { lock.withLock { defer { done = true }; return !done } }
    }
}
