@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

/// The engine's per-secret journal entries: every failure kind writes one that names the secret and the reason,
/// "synced" only for a Secret that was written, "kept" only for one that exists.
@Suite struct SecretSyncJournalTests {
    /// The captured entries of `level` and `message` about secret `db`.
    func entries(_ h: SyncHarness, _ level: String, _ message: String) -> [String] {
        h.logs.lines.filter { $0.hasPrefix("\(level) \(message) ") && $0.contains("secret=db ") }
    }

    @Test(arguments: ["kubernetes", "identity", "vault list", "fetch", "write"])
    func everyFailureKindWritesAnEntryNamingTheSecretAndTheReason(kind: String) throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", SyncHarness.planted)
        var definition = try h.db()
        switch kind {
        case "kubernetes":
            h.kube.fault = { _ throws(HTTPClientError) in throw HTTPClientError(kind: .couldNotConnect, message: "connection refused") }
        case "identity":
            h.configuration.identity.tenantId = nil
            definition.tenantId = nil
        case "vault list":
            h.vaults.failList("kv-one", with: FakeVaults.error(503, "ServiceUnavailable"))
        case "fetch":
            h.vaults.fail("kv-one", "db-password", with: FakeVaults.error(403, "Forbidden", inner: "ForbiddenByRbac"))
        default:
            h.kube.fault = { request throws(HTTPClientError) in
                request.method == .patch ? FakeKubernetes.status(404, "NotFound", "namespaces \"apps\" not found") : nil
            }
        }
        let outcome = try #require(h.run([definition]).outcomes.first)
        #expect(outcome.result == .failed)
        let failed = entries(h, "warning", "Secret sync failed")
        #expect(failed.count == 1, "one entry per secret and cycle: \(h.logs.lines)")
        #expect(failed.first?.contains("error.code=\(outcome.issue?.code ?? "?")") == true, "\(failed)")
        #expect(failed.first?.contains("error=") == true, "the reason's message too")
        #expect(entries(h, "info", "Secret synced").isEmpty, "nothing was written")
        #expect(!h.logs.text.contains(SyncHarness.planted))
    }

    @Test func objectsThatWereNeverInTheVaultAreAFailureNotAKeptSecret() throws {
        let h = try SyncHarness()  // retain is the default policy; the vault does not have db-password
        let outcome = try #require(h.run([try h.db()]).outcomes.first)
        #expect(outcome.result == .failed, "there is no Secret to keep")
        #expect(outcome.issue?.code == "SecretNotFound")
        #expect(h.engine.status("db")?.issue?.code == "SecretNotFound", "the status says it fails")
        #expect(entries(h, "warning", "Secret sync failed").count == 1)
        #expect(!h.logs.text.contains("Secret kept"))
        #expect(entries(h, "info", "Secret synced").isEmpty)
    }

    @Test func objectsGoneFromTheVaultKeepAnExistingSecretAndSaySo() throws {
        let h = try SyncHarness.synced("v1")
        h.vaults.delete("kv-one", "db-password")
        let outcome = try #require(h.run([try h.db()]).outcomes.first)
        #expect(outcome.result == .retained)
        #expect(h.value("apps", "db", "password") == "v1")
        let kept = entries(h, "warning", "Secret kept; its objects are gone from the vault (sync.deletedInVault: retain)")
        #expect(kept.count == 1 && kept.first?.contains("error.code=SecretNotFound") == true, "\(h.logs.lines)")
        #expect(entries(h, "info", "Secret synced").count == 1, "only the first cycle's write is 'synced'")
    }

    @Test func deletedWhenGoneSaysWhetherASecretWasThere() throws {
        let h = try SyncHarness.synced("v1")
        h.configuration.sync.deletedInVault = .delete
        h.vaults.delete("kv-one", "db-password")
        #expect(h.run([try h.db()]).outcomes.first?.result == .deleted)
        #expect(entries(h, "notice", "Secret deleted; its objects are gone from the vault (sync.deletedInVault: delete)").count == 1)

        let never = try SyncHarness()
        never.configuration.sync.deletedInVault = .delete
        #expect(never.run([try never.db()]).outcomes.first?.result == .deleted)
        #expect(entries(never, "notice", "No Secret written; its objects are gone from the vault (sync.deletedInVault: delete)").count == 1)
        #expect(entries(never, "notice", "Secret deleted; its objects are gone from the vault (sync.deletedInVault: delete)").isEmpty)
    }
}
