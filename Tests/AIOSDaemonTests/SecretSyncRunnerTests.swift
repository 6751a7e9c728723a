@testable import AIOSCore
@testable import AIOSDaemon
import Foundation
import Logging
import Testing
import AIOSTestSupport

/// The cluster side of the runner against a fake API server with the SecretSync CRDs: `cluster.secretSyncs`
/// selects what is synced, `cluster.onSecretSyncDeleted` decides what happens to the Secret of a deleted SecretSync.
@Suite struct SecretSyncRunnerTests {
    static var providerClass: [String: Any] { [
        "apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass", "metadata": ["name": "spc", "namespace": "apps"],
        "spec": ["provider": "azure", "parameters": ["keyvaultName": "kv-one", "tenantId": "72f988bf-0000-4000-8000-00000000a105",
                                                     "clientID": "11111111-2222-3333-4444-555555555555",
                                                     "objects": "array:\n  - |\n    objectName: db-password\n"]],
    ] }

    static func secretSync(labels: [String: String]) -> [String: Any] {
        ["apiVersion": "secret-sync.x-k8s.io/v1alpha1", "kind": "SecretSync", "metadata": ["name": "db", "namespace": "apps", "labels": labels],
         "spec": ["serviceAccountName": "aio-ssc-sa", "secretProviderClassName": "spc",
                  "secretObject": ["type": "Opaque", "data": [["sourcePath": "db-password", "targetKey": "password"]]]]]
    }

    /// A runner over `h` whose cluster holds the provider class and a SecretSync `apps/db` labelled `labels`.
    func runner(_ h: SyncHarness, labels: [String: String] = ["aios.microsoft.com/agent": "aiosd"]) -> SecretSyncRunner {
        h.configuration.sync.definitions = h.directory.file("secrets.d")
        h.vaults.set("kv-one", "db-password", "from-the-vault")
        h.kube.install(ClusterObjects.secretSyncsPath)
        h.kube.install(ClusterObjects.providerClassesPath)
        h.kube.apply(ClusterObjects.providerClassesPath, Self.providerClass)
        h.kube.apply(ClusterObjects.secretSyncsPath, Self.secretSync(labels: labels))
        let configuration = h.configuration
        return SecretSyncRunner(engine: h.engine, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                tasks: TaskSupervisor(), configuration: { configuration })
    }

    /// Runs `body` while the runner's services run as in aiosd: its task supervisor and the cluster watches.
    func withServices(_ runner: SecretSyncRunner, _ body: () async throws -> Void) async throws {
        let state = DaemonState(configPath: "/nonexistent/aiosd.yaml", socketPath: "/nonexistent/aiosd.sock", configuration: runner.configuration(),
                                underSystemd: false, watchdogInterval: nil)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        try await withThrowingTaskGroup { group in
            group.addTask { try await runner.tasks.run() }
            group.addTask { try await ClusterWatchService(runner: runner, state: state, logger: logger).run() }
            defer { group.cancelAll() }
            try await body()
        }
    }

    /// Polls until the tests' answer deadline: the watch threads list the cluster a moment after the first look.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        try await Poll.until(condition)
    }

    @Test func labelledSecretSyncIsSyncedAndOffSyncsNone() async throws {
        let on = try SyncHarness()
        let syncing = runner(on)
        try await withServices(syncing) {
            #expect(try await eventually { syncing.allDefinitions().all.map(\.name) == ["apps/db"] })
            _ = try await syncing.cycle(force: false, reason: "test")
            #expect(on.value("apps", "db", "password") == "from-the-vault")
        }

        let off = try SyncHarness()
        off.configuration.cluster.secretSyncs = .off
        let idle = runner(off)
        try await withServices(idle) {
            let loaded = idle.allDefinitions()
            #expect(loaded.all.isEmpty)
            #expect(loaded.clusterNote?.contains("cluster.secretSyncs: off") == true)
            let report = try await idle.cycle(force: false, reason: "test")
            #expect(report.outcomes.isEmpty)
            #expect(off.kube.secret("apps", "db") == nil)
            #expect(!off.kube.requests.contains { $0.contains("secretsyncs") }, "with off, the cluster is not even watched")
        }
    }

    @Test func unlabelledSecretSyncIsLeftToTheController() async throws {
        let h = try SyncHarness()
        let runner = runner(h, labels: [:])
        try await withServices(runner) {
            #expect(try await eventually { runner.allDefinitions().clusterNote == nil && h.kube.requests.contains { $0.contains("secretsyncs") } })
            _ = try await runner.cycle(force: false, reason: "test")
            #expect(h.kube.secret("apps", "db") == nil)
        }
    }

    @Test(arguments: [ClusterSyncConfiguration.DeletedPolicy.retain, .delete])
    func deletedSecretSyncFollowsThePolicy(policy: ClusterSyncConfiguration.DeletedPolicy) async throws {
        let h = try SyncHarness()
        h.configuration.cluster.onSecretSyncDeleted = policy
        let runner = runner(h)
        try await withServices(runner) {
            #expect(try await eventually { runner.allDefinitions().all.count == 1 })
            // Only under delete does the Secret carry the ownerReference that lets Kubernetes' collector delete it.
            let source = try #require(runner.allDefinitions().all.first).source
            guard case .cluster(let origin) = source else { Issue.record("not a cluster definition"); return }
            #expect(origin.ownedBySecretSync == (policy == .delete))
            _ = try await runner.cycle(force: false, reason: "test")
            #expect(h.value("apps", "db", "password") == "from-the-vault")

            h.kube.delete(ClusterObjects.secretSyncsPath, namespace: "apps", name: "db")
            #expect(try await eventually { runner.allDefinitions().all.isEmpty })
            _ = try await runner.cycle(force: false, reason: "test")
            switch policy {
            case .retain:
                #expect(h.value("apps", "db", "password") == "from-the-vault", "retain: the Secret stays")
            case .delete:
                #expect(h.kube.secret("apps", "db") == nil, "delete: the Secret goes with its SecretSync")
            }
            #expect(h.engine.status("apps/db") == nil, "either way aiosd forgets the definition")
        }
    }
}
