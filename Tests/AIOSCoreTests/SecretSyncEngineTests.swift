@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The sync engine over a fake Kubernetes API server and fake vaults (the real clients, fakes only at their
/// transports): what it fetches, writes, keeps and deletes, cycle after cycle.
@Suite struct SecretSyncEngineTests {
    @Test func newSecretIsCreatedThenANothingChangedCycleReadsAndWritesNothing() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "first")
        let first = h.run([try h.db()])
        #expect(first.outcomes.map(\.result) == [.applied])
        #expect(h.value("apps", "db", "password") == "first")
        let secret = try #require(h.kube.secret("apps", "db"))
        #expect(secret.labels[SecretSyncEngine.managedByLabel] == "aiosd")

        h.kube.resetRequests()
        let gets = h.vaults.gets.count
        let second = h.run([try h.db()])
        #expect(second.outcomes.map(\.result) == [.unchanged])
        #expect(h.vaults.gets.count == gets)
        // The steady state: one list of Secrets, no read of a Secret, no write.
        #expect(h.kube.requests == ["GET /api/v1/secrets"])
    }

    /// Definitions with nothing to fetch are done on the cycle's thread: spread over the workers, their locks and
    /// thread switches cost a third of a steady cycle at 10,000 definitions.
    @Test func aCycleWithNothingToFetchUsesNoWorker() throws {
        let h = try SyncHarness()
        h.configuration.sync.concurrency = 4
        let definitions = try h.definitions(["a", "b", "c", "d", "e"])
        #expect(h.run(definitions).outcomes.allSatisfy { $0.result == .applied })
        #expect(h.workers.executions > 0, "fetches run on the workers")
        let before = h.workers.executions
        #expect(h.run(definitions).outcomes.allSatisfy { $0.result == .unchanged })
        #expect(h.workers.executions == before)
        h.vaults.set("kv-one", "c-password", "new")
        let changed = h.run(definitions)
        #expect(changed.outcomes.first { $0.name == "c" }?.result == .applied && h.value("apps", "c", "password") == "new")
        #expect(changed.outcomes.filter { $0.result == .unchanged }.count == 4)
    }

    @Test func changedValueIsFetchedAndApplied() throws {
        let h = try SyncHarness.synced("first")
        h.vaults.set("kv-one", "db-password", "second")
        let report = h.run([try h.db()])
        #expect(report.outcomes.map(\.result) == [.applied])
        #expect(report.outcomes.first?.fetched == 1)
        #expect(h.value("apps", "db", "password") == "second")
    }

    @Test func secretEditedByHandIsRepairedAtTheNextCycle() throws {
        let h = try SyncHarness.synced("right")
        h.kube.edit("apps", "db", key: "password", value: "tampered")
        let gets = h.vaults.gets.count
        let report = h.run([try h.db()])
        #expect(report.outcomes.map(\.result) == [.applied])
        #expect(h.value("apps", "db", "password") == "right")
        #expect(h.vaults.gets.count == gets + 1, "no value is kept between cycles: the one to restore is read from the vault")
        // Repaired: the cycle after is quiet again.
        h.kube.resetRequests()
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.unchanged])
        #expect(h.kube.requests == ["GET /api/v1/secrets"])
    }

    @Test func keyDeletedByHandIsRestoredAfterARestart() throws {
        let h = try SyncHarness.synced("right")
        h.kube.edit("apps", "db", key: "password", value: nil)
        h.restart()
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.applied])
        #expect(h.value("apps", "db", "password") == "right")
    }

    @Test func aWriteThatChangesNoDataIsCheckedOnceAndNotRewritten() throws {
        let h = try SyncHarness.synced("right")
        h.kube.edit("apps", "db", key: "added-by-someone", value: "theirs")
        h.kube.resetRequests()
        let gets = h.vaults.gets.count
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.unchanged])
        #expect(h.kube.count("GET") == 2 && h.kube.count("PATCH") == 0, "\(h.kube.requests)")
        #expect(h.vaults.gets.count == gets, "aiosd's keys in the Secret are compared by the hash it wrote: no value is read")
        h.kube.resetRequests()
        h.run([try h.db()])
        #expect(h.kube.requests == ["GET /api/v1/secrets"])
    }

    @Test func forceComparesTheLiveDataAndDropsCachedTokens() throws {
        let h = try SyncHarness.synced("right")
        let identity = try SyncIdentity.resolve(try h.db(), configuration: h.configuration.identity, policy: h.configuration.secrets)
        let credential = try #require(h.credentials[identity])
        h.run([try h.db()])
        #expect(credential.calls == 1, "the token is cached between cycles")
        h.kube.resetRequests()
        #expect(h.run([try h.db()], force: true).outcomes.map(\.result) == [.unchanged])
        #expect(h.kube.requests.contains("GET /api/v1/namespaces/apps/secrets/db"))
        #expect(credential.calls == 2, "sync --force asks for a new token")
    }

    /// Root narrows `secrets:` (config reload) after an operator added a definition: at the next cycle the
    /// operator's definition fails with the rule, its target is neither read nor written; root's is unaffected.
    @Test func anOperatorsDefinitionIsHeldToTheNarrowedPolicyAtEverySync() throws {
        let h = try SyncHarness()
        h.configuration.secrets.allowedNamespaces = ["apps"]
        h.configuration.secrets.allowedServiceAccounts = ["apps/reader"]
        var operators = try h.db()
        operators.writtenBy = .operator
        var reader = try h.definition("reader", "keyvaultName: kv-one\nserviceAccountName: apps/reader\nobjects:\n  - objectName: db-password\nsecretObject:\n  name: reader\n  data:\n    - {sourcePath: db-password, targetKey: password}\n")
        reader.writtenBy = .operator
        let roots = try h.definition("roots", "keyvaultName: kv-one\nobjects:\n  - objectName: db-password\nsecretObject:\n  name: roots\n  data:\n    - {sourcePath: db-password, targetKey: password}\n")
        h.vaults.set("kv-one", "db-password", "first")
        #expect(h.run([operators, reader, roots]).outcomes.map(\.result) == [.applied, .applied, .applied])

        h.configuration.secrets.allowedNamespaces = ["azure-iot-operations"]
        h.configuration.secrets.allowedServiceAccounts = []
        h.vaults.set("kv-one", "db-password", "second")
        h.kube.resetRequests()
        let report = h.run([operators, reader, roots], force: true)
        let byName = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.name, $0) })
        let namespace = try #require(byName["db"]?.issue)
        #expect(byName["db"]?.result == .failed)
        #expect(namespace.code == "TargetNotAllowed")
        #expect(namespace.message.contains("written by an operator: db targets namespace apps, which secrets.allowedNamespaces"), "\(namespace.message)")
        #expect(namespace.hint?.contains("aiosctl secret remove db") == true)
        #expect(h.engine.status("db")?.issue?.code == "TargetNotAllowed", "status (secret list/show) says so")
        #expect(byName["reader"]?.issue?.code == "TargetNotAllowed", "the namespace is judged first")
        h.configuration.secrets.allowedNamespaces = ["apps"]
        let account = try #require(h.run([reader]).outcomes.first?.issue)
        #expect(account.code == "ServiceAccountNotAllowed")
        #expect(account.message.contains("reads the vault as service account apps/reader"), "\(account.message)")
        h.configuration.secrets.allowedNamespaces = ["azure-iot-operations"]

        #expect(byName["roots"]?.result == .applied, "root's definition is not bounded")
        #expect(h.value("apps", "roots", "password") == "second")
        #expect(h.value("apps", "db", "password") == "first" && h.value("apps", "reader", "password") == "first",
                "nothing is written to the now-disallowed targets")
        #expect(!h.kube.requests.contains { $0.contains("/namespaces/apps/secrets/db") || $0.contains("/namespaces/apps/secrets/reader") },
                "\(h.kube.requests)")
        #expect(h.logs.lines.contains { $0.hasPrefix("warning Secret sync failed") && $0.contains("error.code=TargetNotAllowed") && $0.contains("secret=db") },
                "the journal names the definition and the rule")
    }

    @Test func secretOfSomeoneElseIsNeverTakenOver() throws {
        let h = try SyncHarness()
        h.kube.put(.init(namespace: "apps", name: "db", uid: "u-1", resourceVersion: "", type: "Opaque", labels: ["team": "x"], annotations: [:],
                         data: ["password": Array("theirs".utf8)]))
        h.vaults.set("kv-one", "db-password", "ours")
        let report = h.run([try h.db()])
        #expect(report.outcomes.first?.result == .failed)
        #expect(report.outcomes.first?.issue?.code == "TargetNotOwned")
        #expect(h.value("apps", "db", "password") == "theirs")
        #expect(h.kube.count("PATCH") == 0 && h.kube.count("DELETE") == 0)
    }

    @Test func secretOfAnotherDefinitionIsNotTouched() throws {
        let h = try SyncHarness.synced("ours")
        let other = try h.definition("other", "keyvaultName: kv-one\nobjects:\n  - objectName: db-password\nsecretObject:\n  name: db\n")
        let report = h.run([other])
        #expect(report.outcomes.first?.issue?.code == "TargetNotOwned")
        #expect(h.kube.secret("apps", "db")?.labels[SecretSyncEngine.definitionLabel] == "db")
    }

    /// 404, or disabled: gone from the vault. Under `retain` the Secret stays, under `delete` it goes.
    @Test(arguments: ["missing", "disabled"], [SyncConfiguration.DeletedInVaultPolicy.retain, .delete])
    func goneFromTheVaultFollowsThePolicy(how: String, policy: SyncConfiguration.DeletedInVaultPolicy) throws {
        let h = try SyncHarness()
        h.configuration.sync.deletedInVault = policy
        h.vaults.set("kv-one", "db-password", "v1")
        h.run([try h.db()])
        if how == "missing" { h.vaults.delete("kv-one", "db-password") } else { h.vaults.set("kv-one", "db-password", "v1", enabled: false) }
        let report = h.run([try h.db()])
        let outcome = try #require(report.outcomes.first)
        #expect(outcome.issue?.code == (how == "missing" ? "SecretNotFound" : "SecretDisabled"))
        switch policy {
        case .retain:
            #expect(outcome.result == .retained)
            #expect(h.value("apps", "db", "password") == "v1")
        case .delete:
            #expect(outcome.result == .deleted)
            #expect(h.kube.secret("apps", "db") == nil)
        }
    }

    /// A 404 on the value's GET after the list showed it (deleted in between) is absence too.
    @Test func notFoundOnFetchCountsAsGone() throws {
        let h = try SyncHarness()
        h.configuration.sync.deletedInVault = .delete
        h.vaults.set("kv-one", "db-password", "v1")
        h.run([try h.db()])
        h.vaults.set("kv-one", "db-password", "v2")
        h.vaults.fail("kv-one", "db-password", with: FakeVaults.error(404, "SecretNotFound"))
        #expect(h.run([try h.db()]).outcomes.first?.result == .deleted)
    }

    /// Failures that say nothing about the secret's existence keep the last good Secret, even under `delete`.
    @Test(arguments: [
        ("ForbiddenByRbac", FakeVaults.error(403, "Forbidden", inner: "ForbiddenByRbac"), "ForbiddenByRbac"),
        ("AccessDenied", FakeVaults.error(403, "Forbidden", inner: "AccessDenied"), "AccessDenied"),
        ("firewall", FakeVaults.error(403, "ForbiddenByFirewall"), "ForbiddenByFirewall"),
        ("throttled", FakeVaults.error(429, "Throttled"), "Throttled"),
        ("outage", FakeVaults.error(503, "ServiceUnavailable"), "ServiceUnavailable"),
        ("proxy 404", HTTPResponse(status: 404, body: Array("<html>not here</html>".utf8), headers: []), "KeyVaultBadResponse"),
    ])
    func failureThatIsNotAbsenceKeepsTheSecret(name: String, response: HTTPResponse, code: String) throws {
        let h = try SyncHarness()
        h.configuration.sync.deletedInVault = .delete
        h.vaults.set("kv-one", "db-password", "v1")
        h.run([try h.db()])
        h.vaults.set("kv-one", "db-password", "v2")
        h.vaults.fail("kv-one", "db-password", with: response)
        let outcome = try #require(h.run([try h.db()]).outcomes.first)
        #expect(outcome.result == .failed, "\(name)")
        #expect(outcome.issue?.code == code, "\(name)")
        #expect(h.value("apps", "db", "password") == "v1", "\(name): the last good Secret stays")
        #expect(h.kube.count("DELETE") == 0)
        #expect(h.engine.status("db")?.isStale == true)
        // Healed: the next cycle syncs the new value.
        h.vaults.fail("kv-one", "db-password", with: nil)
        #expect(h.run([try h.db()]).outcomes.first?.result == .applied)
        #expect(h.value("apps", "db", "password") == "v2")
    }

    @Test func vaultOutageOnTheListKeepsEverySecret() throws {
        let h = try SyncHarness()
        h.configuration.sync.deletedInVault = .delete
        h.vaults.set("kv-one", "db-password", "v1")
        h.run([try h.db()])
        h.vaults.failList("kv-one", with: FakeVaults.error(500, "InternalServerError"))
        #expect(h.run([try h.db()]).outcomes.first?.result == .failed)
        #expect(h.value("apps", "db", "password") == "v1")
    }

    @Test func kubernetesOutageFailsEveryDefinitionAndWritesNothing() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "v1")
        h.kube.fault = { _ throws(HTTPClientError) in throw HTTPClientError(kind: .couldNotConnect, message: "connection refused") }
        let report = h.run([try h.db()])
        #expect(report.outcomes.first?.result == .failed)
        #expect(report.outcomes.first?.issue?.code == "KubernetesUnreachable")
        #expect(h.vaults.gets.isEmpty)
    }

    @Test func missingNamespaceGetsAHint() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "v1")
        h.kube.fault = { request throws(HTTPClientError) in
            // The first write is a server-side apply (PATCH): a real API server answers 404 for a missing namespace.
            request.method == .patch ? FakeKubernetes.status(404, "NotFound", "namespaces \"apps\" not found") : nil
        }
        let outcome = try #require(h.run([try h.db()]).outcomes.first)
        #expect(outcome.result == .failed)
        #expect(outcome.issue?.hint?.contains("kubectl create namespace apps") == true)
    }

    @Test func contentHashIsKeyedWithTheHostKey() throws {
        let a = try SyncHarness(key: Array(repeating: 1, count: 32))
        let b = try SyncHarness(key: Array(repeating: 2, count: 32))
        for h in [a, b] {
            h.vaults.set("kv-one", "db-password", "same value")
            h.run([try h.db()])
        }
        let hashA = try #require(a.kube.secret("apps", "db")?.annotations[SecretSyncEngine.hashAnnotation])
        let hashB = try #require(b.kube.secret("apps", "db")?.annotations[SecretSyncEngine.hashAnnotation])
        #expect(hashA.hasPrefix("hmac-sha256:"))
        #expect(hashA != hashB, "the same content on two hosts must not hash alike")
        #expect(hashA == ContentHasher(key: a.key).hash(type: "Opaque", data: ["password": Array("same value".utf8)]))
        // An unkeyed digest of the same content is not what is published.
        #expect(!hashA.contains(ContentHasher.digest(Array("same value".utf8))))
    }

    @Test func severalIdentitiesKeepSeparateTokenCaches() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "db-password", "a")
        h.vaults.set("kv-two", "api-key", "b")
        let first = try h.db()
        let second = try h.definition("api", "keyvaultName: kv-two\nclientID: 99999999-2222-3333-4444-555555555555\nobjects:\n  - objectName: api-key\n")
        let report = h.run([first, second])
        #expect(report.outcomes.map(\.result) == [.applied, .applied])
        let calls = h.credentials.calls
        #expect(calls == [1, 1], "one credential, one token per identity")
        h.vaults.set("kv-one", "db-password", "a2")
        h.vaults.set("kv-two", "api-key", "b2")
        h.run([first, second])
        #expect(h.credentials.calls == [1, 1], "each identity reuses its own cached token")
    }

    @Test func noValueReachesAnyLogAtTraceLevel() throws {
        let h = try SyncHarness()
        h.configuration.sync.deletedInVault = .delete
        h.vaults.set("kv-one", "db-password", SyncHarness.planted)
        h.run([try h.db()])
        h.kube.edit("apps", "db", key: "password", value: "x")
        h.run([try h.db()], force: true)
        h.vaults.set("kv-one", "db-password", SyncHarness.planted + "-2")
        h.vaults.fail("kv-one", "db-password", with: FakeVaults.error(429, "Throttled"))
        h.run([try h.db()])
        h.vaults.fail("kv-one", "db-password", with: nil)
        h.run([try h.db()])
        h.vaults.delete("kv-one", "db-password")
        h.run([try h.db()])
        #expect(h.logs.lines.count > 5, "the capture sees the engine's and the vault client's entries")
        #expect(h.logs.lines.contains { $0.hasPrefix("debug") || $0.hasPrefix("trace") })
        #expect(!h.logs.text.contains("PLANTED-VALUE"))
        #expect(!h.logs.text.contains(Data(SyncHarness.planted.utf8).base64EncodedString()))
        // Nor as the bytes a Swift array of them prints.
        #expect(!h.logs.text.contains(Array(SyncHarness.planted.utf8).prefix(8).map(String.init).joined(separator: ", ")))
    }

    @Test func stateSurvivesARestartAndDetectsChangesWithoutRefetching() throws {
        let h = try SyncHarness.synced("v1")
        let saved = try String(contentsOfFile: h.directory.file("sync-state.json"), encoding: .utf8)
        #expect(!saved.contains("v1\""))
        #expect(saved.contains("targetResourceVersion"))
        let attributes = try FileManager.default.attributesOfItem(atPath: h.directory.file("sync-state.json"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let writes = h.kube.count("PATCH")
        h.restart()
        #expect(h.engine.status("db")?.targetHash != nil)
        let gets = h.vaults.gets.count
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.unchanged])
        // After a restart nothing is fetched again (the state file says what the Secret holds), nor rewritten.
        #expect(h.vaults.gets.count == gets)
        #expect(h.kube.count("PATCH") == writes)
        h.vaults.set("kv-one", "db-password", "v2")
        h.restart()
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.applied])
        #expect(h.value("apps", "db", "password") == "v2")
    }

    @Test func aSecretWhoseWriteFailedIsFetchedAndWrittenAtTheNextCycle() throws {
        let h = try SyncHarness.synced("v1")
        h.vaults.set("kv-one", "db-password", "v2")
        h.fence.open = false
        let refused = h.run([try h.db()])
        #expect(refused.outcomes.map(\.result) == [.failed] && refused.outcomes.first?.fetched == 1)
        #expect(h.value("apps", "db", "password") == "v1")
        // The object's status already shows v2's time; no value was kept: the retry must read it again.
        h.fence.open = true
        let gets = h.vaults.gets.count
        let retried = h.run([try h.db()])
        #expect(retried.outcomes.map(\.result) == [.applied])
        #expect(h.vaults.gets.count == gets + 1)
        #expect(h.value("apps", "db", "password") == "v2")
        h.restart()
        #expect(h.run([try h.db()]).outcomes.map(\.result) == [.unchanged])
    }

    @Test func anObjectThatChangedIsWrittenWithItsSiblingsReadAgain() throws {
        let h = try SyncHarness()
        h.vaults.set("kv-one", "user", "alice")
        h.vaults.set("kv-one", "pass", "one")
        let pair = try h.definition("pair", """
            keyvaultName: kv-one
            objects:
              - objectName: user
              - objectName: pass
            secretObject:
              data:
                - {sourcePath: user, targetKey: username}
                - {sourcePath: pass, targetKey: password}
            """)
        #expect(h.run([pair]).outcomes.map(\.result) == [.applied])
        #expect(h.run([pair]).outcomes.map(\.result) == [.unchanged])
        h.vaults.set("kv-one", "pass", "two")
        let gets = h.vaults.gets.count
        let report = h.run([pair])
        #expect(report.outcomes.map(\.result) == [.applied] && report.outcomes.first?.fetched == 2)
        #expect(h.vaults.gets.count == gets + 2)
        #expect(h.value("apps", "pair", "username") == "alice" && h.value("apps", "pair", "password") == "two")
    }

    @Test func stateStoreRoundTripsAndIgnoresACorruptFile() throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        let path = directory.file("state.json")
        let store = SyncStateStore(path: path)
        var status = SyncDefinitionStatus(name: "db", objects: [SyncObjectStatus(objectName: "o", alias: "a")])
        status.targetHash = "hmac-sha256:00"
        status.targetResourceVersion = "42"
        status.issue = SyncIssue(code: "Throttled", message: "m")
        store.put(status)
        #expect(store.save() == nil)
        #expect(SyncStateStore(path: path).get("db") == status)
        store.remove("db")
        store.save()
        #expect(SyncStateStore(path: path).all.isEmpty)
        _ = try directory.write("state.json", "{not json")
        #expect(SyncStateStore(path: path).all.isEmpty)
        #expect(SyncStateStore(path: directory.file("missing/dir/x.json")).save() != nil)
    }

    /// The state file is written one status at a time, in parts, and is byte for byte what encoding the whole array
    /// wrote (so files of earlier versions and of this one are the same format), for none, one and many statuses
    /// (500: over 64 KiB, several parts).
    @Test func stateFileIsTheEncodedArrayWrittenAStatusAtATime() throws {
        let directory = try TemporaryDirectory(prefix: "state")
        defer { directory.remove() }
        for count in [0, 1, 3, 50, 500] {
            let path = directory.file("state-\(count).json")
            let store = SyncStateStore(path: path)
            for index in 0..<count {
                var status = SyncDefinitionStatus(name: "def-\(index)", objects: (0..<(index % 3)).map {
                    SyncObjectStatus(objectName: "o\($0)", alias: "a\"\($0)")
                })
                status.lastAttempt = Date(timeIntervalSince1970: 1_796_000_000 + Double(index))
                status.targetHash = index % 2 == 0 ? "hmac-sha256:\(index)" : nil
                status.issue = index % 5 == 0 ? SyncIssue(code: "Throttled", message: "line\nbreak", hint: "wait") : nil
                store.put(status)
            }
            #expect(store.save() == nil)
            let written = try #require(FileManager.default.contents(atPath: path))
            #expect(Array(written) == Array(try SyncStateStore.encoder.encode(store.all)))
            #expect(SyncStateStore(path: path).all == store.all)
        }
    }

    /// The file is written by hand (`SyncStateStore.encoded`): for statuses with every field, none, and strings
    /// with slashes, quotes, control characters and non-ASCII text, its bytes are JSONEncoder's.
    @Test func stateFileIsJSONEncodersTextForEveryField() throws {
        let texts = ["", "plain", "a/b", "quote \" back \\", "line\nbreak\ttab\u{8}\u{c}\u{1}\u{1f}\u{7f}", "é 日本 🔑", "https://kv/x/y"]
        func text() -> String { texts.randomElement()! + (Bool.random() ? "" : texts.randomElement()!) }
        func date() -> Date? { Bool.random() ? nil : Date(timeIntervalSince1970: Double.random(in: 0..<4_000_000_000)) }
        func number() -> Int? { Bool.random() ? nil : Int.random(in: -5...2_000_000_000) }
        func issue() -> SyncIssue? { Bool.random() ? nil : SyncIssue(code: text(), message: text(), hint: Bool.random() ? nil : text()) }
        var statuses: [SyncDefinitionStatus] = []
        for index in 0..<400 {
            var status = SyncDefinitionStatus(name: "def-\(index)-\(text())", objects: (0..<Int.random(in: 0...3)).map { _ in
                var object = SyncObjectStatus(objectName: text(), alias: text())
                (object.lastAttempt, object.lastSuccess, object.vaultVersion, object.contentHash) = (date(), date(), Bool.random() ? nil : text(), Bool.random() ? nil : text())
                (object.vaultUpdated, object.observedAt, object.expires, object.notBefore, object.expiryWarnedDays) = (number(), number(), number(), number(), number())
                object.issue = issue()
                return object
            })
            (status.lastAttempt, status.lastSuccess, status.lastApplied) = (date(), date(), date())
            (status.targetHash, status.targetResourceVersion, status.definitionHash) = (Bool.random() ? nil : text(), Bool.random() ? nil : text(), Bool.random() ? nil : text())
            status.issue = issue()
            status.targetDeleted = Bool.random()
            statuses.append(status)
        }
        for count in [0, 1, 2, statuses.count] {
            let some = Array(statuses.prefix(count))
            let expected = Array(try SyncStateStore.encoder.encode(some))
            let written = SyncStateStore.encoded(some)
            #expect(written == expected, "\(String(decoding: written.prefix(600), as: UTF8.self))\n vs \(String(decoding: expected.prefix(600), as: UTF8.self))")
            // In parts as small as one status each, the same text.
            var parts = 0
            var joined: [UInt8] = []
            SyncStateStore.encode(some, partSize: 1) { (part: [UInt8]) throws(Never) in
                parts += 1
                joined += part
            }
            #expect(joined == expected && parts == count + 1)
        }
    }
}
