import AIOSAPI
import AIOSClient
import AIOSTestSupport
import Foundation
import Testing

/// The secret endpoints in-process: definitions are validated, written atomically, listed and removed. Syncing
/// against Key Vault and Kubernetes is proven in the testbed (Tests/testbed/e2e/85-secret-sync.sh).
@Suite struct SecretAPITests {
    static func config(_ directory: String) -> String {
        "sync:\n  definitions: \(directory)\n  kubeconfig: \(directory)/missing-kubeconfig\n  interval: 1h\n"
    }

    static func add(_ definition: SecretDefinitionInfo, replace: Bool = false) throws -> [UInt8] {
        Array(try APICoding.encoder().encode(request(definition, replace: replace)))
    }

    static func request(_ definition: SecretDefinitionInfo, replace: Bool = false) -> SecretAddRequest {
        SecretAddRequest(definition: definition, replace: replace)
    }

    static let plain = SecretDefinitionInfo(
        name: "db", keyvaultName: "contoso-kv", objects: [.init(objectName: "db-password")],
        secretObject: .init(namespace: "apps", data: [.init(sourcePath: "db-password", targetKey: "password")]))

    @Test func addWritesAFileThatListAndShowDescribe() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        // "pending" until a cycle runs: none in this test.
        try await DaemonHarness.withDaemon(config: Self.config(definitions.path), firstSync: .seconds(3600)) { daemon in
            let added = try daemon.client.call(API.secretAdd, Self.request(Self.plain))
            #expect(added.file == definitions.file("db.yaml"))
            #expect(!added.replaced)
            let text = try String(contentsOfFile: definitions.file("db.yaml"), encoding: .utf8)
            #expect(text.contains("keyvaultName: \"contoso-kv\""))
            #expect(text.contains("targetKey: \"password\""))

            let list = try daemon.client.call(API.secrets)
            #expect(list.secrets.map(\.name) == ["db"])
            #expect(list.secrets[0].target == "apps/db")
            #expect(list.secrets[0].source == "file")
            #expect(list.secrets[0].status.state == .pending)

            let show = try daemon.client.call(API.secret, parameters: ["name": "db"])
            #expect(show.definition.origin == definitions.file("db.yaml"))
            #expect(show.definition.objects.map(\.objectName) == ["db-password"])
            #expect(show.status.objects.map(\.objectName) == ["db-password"])
        }
    }

    @Test func invalidOrConflictingDefinitionsWriteNothing() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: Self.config(definitions.path)) { daemon in
            var bad = Self.plain
            bad.name = "Bad_Name"
            bad.objects = [.init(objectName: "db.password", objectEncoding: "utf-16")]
            #expect {
                _ = try daemon.client.call(.secretAdd, body: try Self.add(bad))
            } throws: { error in
                guard let error = error as? ClientError, let api = error.apiError else { return false }
                return api.code == "bad_request" && api.message.contains("objectEncoding")
            }
            var badName = Self.plain
            badName.name = "Bad_Name"
            #expect(throws: ClientError.self) { _ = try daemon.client.call(.secretAdd, body: try Self.add(badName)) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: definitions.path).isEmpty, "nothing written")

            _ = try daemon.client.call(.secretAdd, body: try Self.add(Self.plain))
            #expect {
                _ = try daemon.client.call(.secretAdd, body: try Self.add(Self.plain))
            } throws: { ($0 as? ClientError)?.apiError?.code == "conflict" }
            var sameTarget = Self.plain
            sameTarget.name = "other"
            sameTarget.secretObject.name = "db"
            #expect {
                _ = try daemon.client.call(.secretAdd, body: try Self.add(sameTarget))
            } throws: { ($0 as? ClientError)?.apiError?.message.contains("already the target of db") == true }
            let replaced = try daemon.client.call(API.secretAdd, Self.request(Self.plain, replace: true))
            #expect(replaced.replaced)
            #expect(try FileManager.default.contentsOfDirectory(atPath: definitions.path).sorted() == ["db.yaml"])
        }
    }

    @Test func removeDeletesTheFileAndABrokenFileIsReportedNotDropped() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        _ = try definitions.write("broken.yaml", "keyvaultName: contoso-kv\nobjects: nope\n")
        try await DaemonHarness.withDaemon(config: Self.config(definitions.path)) { daemon in
            _ = try daemon.client.call(.secretAdd, body: try Self.add(Self.plain))
            let list = try daemon.client.call(API.secrets)
            #expect(list.invalid.map(\.name) == ["broken"])
            #expect(list.invalid[0].error.contains("broken.yaml:2"))
            #expect(list.invalid[0].error.contains("objects"))

            let removed = try daemon.client.call(API.secretRemove, SecretRemoveRequest(deleteTarget: false), parameters: ["name": "db"])
            #expect(removed.target == "apps/db")
            #expect(!removed.targetDeleted)
            #expect(!FileManager.default.fileExists(atPath: definitions.file("db.yaml")))
            #expect {
                _ = try daemon.client.call(.secretRemove, parameters: ["name": "db"], body: [])
            } throws: { ($0 as? ClientError)?.apiError?.code == "not_found" }
        }
    }

    @Test func syncWithoutKubernetesFailsEachDefinitionWithAFix() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: Self.config(definitions.path)) { daemon in
            _ = try daemon.client.call(.secretAdd, body: try Self.add(Self.plain))
            let response = try daemon.client.call(API.sync, SyncRequest(wait: true))
            #expect(response.finished)
            #expect(response.failed)
            #expect(response.results.map(\.name) == ["db"])
            #expect(response.results.first?.issue?.code == "KubeconfigUnusable")
            let show = try daemon.client.call(API.secret, parameters: ["name": "db"])
            #expect(show.status.state == .failed)
            #expect(show.status.issue?.code == "KubeconfigUnusable")
        }
    }
}
