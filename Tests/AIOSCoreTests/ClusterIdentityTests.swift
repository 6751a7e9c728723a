@testable import AIOSCore
import Foundation
import Testing

/// A cluster SecretSync never borrows the node's identity; the Secret Store extension is recognised only where
/// AIO deploys it; the provider's parsing rules (trimmed parameters, tenantID first, base64 with line breaks,
/// version history) and the API server's (docker config JSON) are followed.
@Suite struct ClusterIdentityTests {
    static let tenant = "72f988bf-0000-4000-8000-00000000a105"
    static let spcClient = "11111111-2222-3333-4444-555555555555"
    static let nodeClient = "99999999-8888-7777-6666-555555555555"

    static func providerClass(namespace: String = "team-a", parameters: String) -> ClusterObjects.ProviderClass {
        ClusterObjects.ProviderClass(json: Data("""
            {"metadata":{"name":"spc","namespace":"\(namespace)"},
             "spec":{"provider":"azure","parameters":{\(parameters),
               "objects":"array:\\n  - |\\n    objectName: '  db-password  '\\n    objectType: secret\\n"}}}
            """.utf8))!
    }

    static func secretSync(namespace: String = "team-a", account: String = "team-a-sa") -> ClusterObjects.SecretSync {
        ClusterObjects.SecretSync(json: Data("""
            {"metadata":{"name":"db","namespace":"\(namespace)","uid":"uid-1","generation":1,"resourceVersion":"5"},
             "spec":{"serviceAccountName":"\(account)","secretProviderClassName":"spc",
                     "secretObject":{"data":[{"sourcePath":"db-password","targetKey":"password"}]}}}
            """.utf8))!
    }

    static let spcParameters = #""keyvaultName":" team-kv ","tenantId":"\#(tenant)","clientID":" \#(spcClient) ""#

    static func nodeIdentity(_ method: IdentityConfiguration.Method) -> IdentityConfiguration {
        var configuration = IdentityConfiguration()
        configuration.method = method
        configuration.tenantId = "00000000-0000-4000-8000-000000000000"
        configuration.clientId = nodeClient
        configuration.managedIdentityEndpoint = .arc
        return configuration
    }

    @Test(arguments: IdentityConfiguration.Method.allCases)
    func aSecretSyncIsReadAsItsOwnServiceAccountWhateverTheNodeUses(method: IdentityConfiguration.Method) throws {
        let definition = try ClusterObjects.definition(Self.secretSync(), providerClass: Self.providerClass(parameters: Self.spcParameters))
        let identity = try SyncIdentity.resolve(definition, configuration: Self.nodeIdentity(method), policy: SecretsPolicyConfiguration())
        #expect(identity.method == .workloadIdentity, "never the node's managed identity or client secret")
        #expect(identity.serviceAccount == ServiceAccountReference(namespace: "team-a", name: "team-a-sa"))
        #expect(identity.clientId == Self.spcClient, "the SPC's client id (trimmed), never the node's")
        #expect(identity.tenantId == Self.tenant)
        #expect(identity.managedIdentityEndpoint == nil && identity.clientSecretFile == nil)
        #expect(definition.keyvaultName == "team-kv")
        #expect(definition.objects.map(\.objectName) == ["db-password"], "object fields are trimmed as the provider trims them")
    }

    @Test func withoutTheSPCsClientIdItIsRefusedNotFilledInFromTheNode() throws {
        let definition = try ClusterObjects.definition(
            Self.secretSync(), providerClass: Self.providerClass(parameters: #""keyvaultName":"team-kv","tenantID":"\#(Self.tenant)""#))
        #expect(definition.clientId == nil)
        for method in IdentityConfiguration.Method.allCases {
            let issue = #expect(throws: SyncIssue.self) { try SyncIdentity.resolve(definition, configuration: Self.nodeIdentity(method), policy: SecretsPolicyConfiguration()) }
            #expect(issue?.code == "IdentityNotConfigured")
            #expect(issue?.message.contains("parameters.clientID") == true)
            #expect(issue?.hint?.contains("kubectl -n team-a edit secretproviderclass spc") == true)
        }
    }

    @Test func withoutTheSPCsTenantItIsRefused() throws {
        let definition = try ClusterObjects.definition(
            Self.secretSync(), providerClass: Self.providerClass(parameters: #""keyvaultName":"team-kv","clientID":"\#(Self.spcClient)""#))
        let issue = #expect(throws: SyncIssue.self) { try SyncIdentity.resolve(definition, configuration: Self.nodeIdentity(.workloadIdentity), policy: SecretsPolicyConfiguration()) }
        #expect(issue?.message.contains("parameters.tenantID") == true)
    }

    @Test func aFileDefinitionStillUsesTheConfiguredIdentity() throws {
        let definition = SyncDefinition(name: "db", source: .file(path: "/etc/aios/secrets.d/db.yaml"), keyvaultName: "kv",
                                        objects: [SyncObject(objectName: "x")], target: TargetSecret(namespace: "ns", name: "db"))
        let identity = try SyncIdentity.resolve(definition, configuration: Self.nodeIdentity(.managedIdentity), policy: SecretsPolicyConfiguration())
        #expect(identity.method == .managedIdentity)
        #expect(identity.managedIdentityEndpoint == .arc)
    }

    @Test func tenantIDIsPreferredOverTenantId() throws {
        let other = "00000000-1111-4000-8000-000000000000"
        let definition = try ClusterObjects.definition(Self.secretSync(), providerClass: Self.providerClass(
            parameters: #""keyvaultName":"team-kv","tenantId":"\#(other)","tenantID":"\#(Self.tenant)","clientId":"\#(Self.spcClient)""#))
        #expect(definition.tenantId == Self.tenant)
        #expect(definition.clientId == Self.spcClient, "clientId is read when clientID is not set")
    }

    @Test func allowedNamespacesNarrowWhichSecretSyncsAreSynced() throws {
        let spc = Self.providerClass(namespace: "team-b", parameters: Self.spcParameters)
        let issue = #expect(throws: SyncIssue.self) {
            try ClusterObjects.definition(Self.secretSync(namespace: "team-b"), providerClass: spc, allowedNamespaces: ["team-a"])
        }
        #expect(issue?.code == "NamespaceNotAllowed")
        #expect(issue?.hint?.contains("cluster.allowedNamespaces") == true)
        _ = try ClusterObjects.definition(Self.secretSync(namespace: "team-b"), providerClass: spc, allowedNamespaces: ["team-a", "team-b"])
        _ = try ClusterObjects.definition(Self.secretSync(namespace: "team-b"), providerClass: spc)

        let configuration = try ConfigurationLoader().parse("cluster:\n  allowedNamespaces: [team-a, azure-iot-operations]\n", file: "a.yaml")
        #expect(configuration.cluster.allowedNamespaces == ["team-a", "azure-iot-operations"])
        #expect(configuration.cluster.allows(namespace: "team-a") && !configuration.cluster.allows(namespace: "default"))
        #expect(AgentConfiguration().cluster.allows(namespace: "default"), "default: every namespace")
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader().parse("cluster:\n  allowedNamespaces: [Team_A]\n", file: "a.yaml") }
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader().parse("cluster:\n  allowedNamespaces: team-a\n", file: "a.yaml") }
    }

    @Test func identityFailuresAreAControllerSyncErrorCondition() throws {
        let sync = Self.secretSync()
        var status = SyncDefinitionStatus(name: sync.key)
        status.lastAttempt = Date()
        status.issue = SyncIssue(code: "ServiceAccountNotFound", message: "service account team-a/team-a-sa does not exist",
                                 hint: "kubectl -n team-a create serviceaccount team-a-sa")
        let hasher = ContentHasher(key: Array(repeating: 7, count: 32))
        let desired = ClusterStatus.desired(for: sync, status: status, invalid: nil, hasher: hasher)
        let conditions = try #require(desired["conditions"]?.objectArray)
        let updated = try #require(conditions.first { $0["type"]?.string == ClusterStatus.updatedType })
        #expect(updated["reason"]?.string == "ControllerSyncError")
        #expect(updated["message"]?.string?.contains("kubectl -n team-a create serviceaccount team-a-sa") == true)
    }

    @Test func aiosdsStatusIsRecognisedSoItCanBeTakenOffADeselectedSecretSync() throws {
        let hasher = ContentHasher(key: Array(repeating: 7, count: 32))
        var sync = Self.secretSync()
        #expect(!ClusterStatus.isAiosds(sync), "no status yet")
        var status = SyncDefinitionStatus(name: sync.key)
        status.lastAttempt = Date()
        status.lastSuccess = Date()
        status.targetHash = "h"
        let desired = ClusterStatus.desired(for: sync, status: status, invalid: nil, hasher: hasher)
        sync.status = try JSONValue.object(desired).encoded()
        #expect(ClusterStatus.isAiosds(sync))
        sync.status = Data(#"{"conditions":[{"type":"SecretUpdated","status":"True","reason":"SecretUpToDate","message":"Secret contains last observed values."}]}"#.utf8)
        #expect(!ClusterStatus.isAiosds(sync), "the controller's own status is never taken off")
        #expect(ClusterStatus.released.keys.sorted() == ["conditions", "lastSuccessfulSyncTime", "syncHash"])
    }

    // MARK: The Secret Store extension

    static func object(_ namespace: String, _ name: String) -> Data {
        Data(#"{"metadata":{"namespace":"\#(namespace)","name":"\#(name)"}}"#.utf8)
    }

    @Test func theSecretStoreExtensionIsRecognisedWhereAIODeploysIt() {
        #expect(ClusterSyncSource.controllerPresence(namespace: "azure-secret-store", deployments: [Self.object("azure-secret-store", "secret-sync-controller")],
                                                     leases: []) == "Deployment azure-secret-store/secret-sync-controller")
        #expect(ClusterSyncSource.controllerPresence(namespace: "azure-secret-store", deployments: [],
                                                     leases: [Self.object("azure-secret-store", ClusterSyncSource.controllerLease)])
                    == "Lease azure-secret-store/\(ClusterSyncSource.controllerLease)")
        #expect(ClusterSyncSource.controllerPresence(namespace: "azure-secret-store", deployments: [Self.object("azure-secret-store", "my-app")],
                                                     leases: []) == nil)
    }

    @Test func objectsAnyNamespaceUserCanCreateElsewhereChangeNothing() {
        #expect(ClusterSyncSource.controllerPresence(namespace: "default", deployments: [Self.object("default", "secret-sync-controller")],
                                                     leases: [Self.object("default", ClusterSyncSource.controllerLease)]) == nil)
        // An item claiming another namespace than the one listed does not count either.
        #expect(ClusterSyncSource.controllerPresence(namespace: "azure-secret-store", deployments: [Self.object("default", "secret-sync-controller")],
                                                     leases: []) == nil)
    }

    // MARK: The provider's and the API server's rules

    @Test func base64WithLineBreaksDecodesAsGosDecoderDoes() throws {
        let object = SyncObject(objectName: "blob", objectEncoding: .base64)
        let encoded = Data((0..<100).map { UInt8($0) }).base64EncodedString()
        let wrapped = stride(from: 0, to: encoded.count, by: 64).map { start -> String in
            let from = encoded.index(encoded.startIndex, offsetBy: start)
            return String(encoded[from..<encoded.index(from, offsetBy: min(64, encoded.count - start))])
        }.joined(separator: "\r\n") + "\n"
        #expect(try ObjectContent.materialize(object, value: wrapped, contentType: nil) == (0..<100).map { UInt8($0) })
        #expect(throws: SyncIssue.self) { try ObjectContent.materialize(object, value: "QUJD RA==", contentType: nil) }
        #expect(throws: SyncIssue.self) { try ObjectContent.materialize(object, value: "QUJD*RA==", contentType: nil) }
    }

    @Test func dockerConfigSecretsMustHoldJSON() {
        let json = Array(#"{"auths":{"registry.example":{"auth":"eDp5"}}}"#.utf8)
        #expect(SecretSyncEngine.formatProblem(type: .dockerConfigJSON, data: [".dockerconfigjson": json]) == nil)
        #expect(SecretSyncEngine.formatProblem(type: .dockerConfig, data: [".dockercfg": Array(#"{"registry.example":{}}"#.utf8)]) == nil)
        let notJSON = SecretSyncEngine.formatProblem(type: .dockerConfigJSON, data: [".dockerconfigjson": Array("PLANTED-user:pass".utf8)])
        #expect(notJSON?.code == "InvalidSecretContent")
        #expect(notJSON?.message.contains("PLANTED") == false, "the value is never part of the error")
        #expect(SecretSyncEngine.formatProblem(type: .dockerConfig, data: ["other": json])?.message.contains(".dockercfg") == true)
        #expect(SecretSyncEngine.formatProblem(type: .opaque, data: ["x": Array("not json".utf8)]) == nil)
    }

    @Test func versionHistorySkipsDisabledVersionsAndStartsAtAPinnedOne() {
        let versions = [
            KeyVaultSecretVersionItem(version: "v1", enabled: true, created: 100, updated: 100),
            KeyVaultSecretVersionItem(version: "v4", enabled: false, created: 400, updated: 400),
            KeyVaultSecretVersionItem(version: "v2", enabled: true, created: 200, updated: 200),
            KeyVaultSecretVersionItem(version: "v3", enabled: true, created: 300, updated: 300),
        ]
        var object = SyncObject(objectName: "rotated", objectVersionHistory: 2)
        // The provider's count: N = 2 gives alias/0, alias/1 and alias/2 when the vault has that many enabled versions.
        #expect(VaultAccess.history(versions, of: object).map(\.version) == ["v3", "v2", "v1"], "the disabled newest is skipped")
        object.objectVersionHistory = 1
        #expect(VaultAccess.history(versions, of: object).map(\.version) == ["v3", "v2"], "N+1 versions")
        object.objectVersion = "V2"
        #expect(VaultAccess.history(versions, of: object).map(\.version) == ["v2", "v1"], "starting at the pinned version")
        object.objectVersionHistory = 5
        #expect(VaultAccess.history(versions, of: object).map(\.version) == ["v2", "v1"], "no more than the vault has")
    }

    @Test func orphansAreOnlyAiosdsClusterSecretsWhoseSecretSyncIsGone() {
        func secret(_ name: String, _ labels: [String: String]) -> KubernetesClient.SecretSummary {
            .init(namespace: "team-a", name: name, uid: "u-\(name)", resourceVersion: "1", type: "Opaque", labels: labels, annotations: [:])
        }
        let ours = [SecretSyncEngine.managedByLabel: "aiosd", SecretSyncEngine.sourceLabel: "cluster"]
        let secrets = [
            secret("gone", ours.merging([SecretSyncEngine.definitionLabel: "gone"]) { $1 }),
            secret("alive", ours.merging([SecretSyncEngine.definitionLabel: "alive"]) { $1 }),
            secret("file", [SecretSyncEngine.managedByLabel: "aiosd", SecretSyncEngine.sourceLabel: "file", SecretSyncEngine.definitionLabel: "file"]),
            secret("someone-elses", [SecretSyncEngine.sourceLabel: "cluster", SecretSyncEngine.definitionLabel: "someone-elses"]),
        ]
        #expect(SecretSyncEngine.orphans(secrets, existing: ["team-a/alive"]).map(\.name) == ["gone"])
    }

    @Test func aClusterSecretIsOwnedByItsSecretSync() {
        let origin = SyncDefinition.ClusterOrigin(namespace: "team-a", secretSync: "db", secretProviderClass: "spc", uid: "uid-1",
                                                  generation: 1, resourceVersion: "5")
        let definition = SyncDefinition(name: "team-a/db", source: .cluster(origin), keyvaultName: "kv", objects: [],
                                        target: TargetSecret(namespace: "team-a", name: "db"))
        #expect(SecretSyncEngine.owner(of: definition) == .init(apiVersion: "secret-sync.x-k8s.io/v1alpha1", kind: "SecretSync", name: "db", uid: "uid-1"))
        var file = definition
        file.source = .file(path: "/etc/aios/secrets.d/db.yaml")
        #expect(SecretSyncEngine.owner(of: file) == nil)
        var kept = origin
        kept.ownedBySecretSync = false
        file.source = .cluster(kept)
        #expect(SecretSyncEngine.owner(of: file) == nil, "under onSecretSyncDeleted: retain the garbage collector must not take it")
    }
}
