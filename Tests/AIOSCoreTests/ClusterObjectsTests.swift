import AIOSCore
import Foundation
import Testing

/// AIO-shaped SecretSync and SecretProviderClass objects become definitions with the controller's meaning.
@Suite struct ClusterObjectsTests {
    static func json(_ text: String) -> Data { Data(text.utf8) }

    static let providerClass = ClusterObjects.ProviderClass(json: json("""
        {"apiVersion":"secrets-store.csi.x-k8s.io/v1","kind":"SecretProviderClass",
         "metadata":{"name":"aio-spc","namespace":"azure-iot-operations"},
         "spec":{"provider":"azure","parameters":{"keyvaultName":"contoso-kv","tenantId":"72f988bf-0000-4000-8000-00000000a105",
           "clientID":"11111111-2222-3333-4444-555555555555",
           "objects":"array:\\n  - |\\n    objectName: db-password\\n    objectType: secret\\n  - |\\n    objectName: trust-der\\n    objectType: secret\\n    objectEncoding: hex\\n    objectAlias: my-server.der\\n  - |\\n    objectName: rotated\\n    objectVersionHistory: 2\\n"}}}
        """))!

    static func secretSync(_ spec: String, labels: String = #"{"aios.microsoft.com/agent":"aiosd"}"#) -> ClusterObjects.SecretSync {
        ClusterObjects.SecretSync(json: json("""
            {"apiVersion":"secret-sync.x-k8s.io/v1alpha1","kind":"SecretSync",
             "metadata":{"name":"aio-opc-ua-broker-trust-list","namespace":"azure-iot-operations","uid":"u-1","generation":3,
                         "resourceVersion":"42","labels":\(labels)},
             "spec":\(spec)}
            """))!
    }

    /// The objects as `az iot ops secretsync secret set` and the portal write them: the ARM provider class's
    /// `clientId`/`keyvaultName`/`tenantId`, and each secret appended to `objects` as "    - |\n      objectName: ..."
    /// (Azure/azure-iot-ops-cli-extension azext_edge/tests/edge/orchestration/test_secretsync_int.py,
    /// _assert_cluster_side_sync and SECRET_SYNC_TEMPLATE: annotations {}, secretSyncControllerName "", aio-ssc-sa).
    @Test func objectsAsTheAzureIoTOperationsCLIWritesThemBecomeADefinition() throws {
        let providerClass = try #require(ClusterObjects.ProviderClass(json: Self.json("""
            {"apiVersion":"secrets-store.csi.x-k8s.io/v1","kind":"SecretProviderClass",
             "metadata":{"name":"spc-ops-4f74e85","namespace":"azure-iot-operations"},
             "spec":{"provider":"azure","parameters":{"clientId":"11111111-2222-3333-4444-555555555555","keyvaultName":"contoso-kv",
               "tenantId":"72f988bf-0000-4000-8000-00000000a105",
               "objects":"array:\\n    - |\\n      objectName: clitestpassword\\n      objectType: secret\\n    - |\\n      objectName: my-cert-der\\n      objectType: secret\\n      objectEncoding: hex\\n"}}}
            """)))
        let sync = try #require(ClusterObjects.SecretSync(json: Self.json("""
            {"apiVersion":"secret-sync.x-k8s.io/v1alpha1","kind":"SecretSync",
             "metadata":{"annotations":{},"name":"sync-abc123","namespace":"azure-iot-operations","uid":"u-2","generation":1,"resourceVersion":"7"},
             "spec":{"secretObject":{"data":[{"sourcePath":"clitestpassword","targetKey":"targetkeyx"},{"sourcePath":"my-cert-der","targetKey":"certificate"}],
                                    "type":"Opaque"},
                     "secretProviderClassName":"spc-ops-4f74e85","secretSyncControllerName":"","serviceAccountName":"aio-ssc-sa"}}
            """)))
        let definition = try ClusterObjects.definition(sync, providerClass: providerClass)
        #expect(definition.keyvaultName == "contoso-kv")
        #expect(definition.clientId == "11111111-2222-3333-4444-555555555555")
        #expect(definition.serviceAccount == ServiceAccountReference(namespace: "azure-iot-operations", name: "aio-ssc-sa"))
        #expect(definition.objects.map(\.objectName) == ["clitestpassword", "my-cert-der"])
        #expect(definition.objects[1].objectEncoding == .hex)
        #expect(definition.target.name == "sync-abc123")
        #expect(definition.target.data.map(\.targetKey) == ["targetkeyx", "certificate"])
    }

    @Test func aSecretSyncAndItsProviderClassBecomeADefinition() throws {
        let sync = Self.secretSync("""
            {"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"aio-spc","forceSynchronization":"7",
             "secretObject":{"type":"Opaque","labels":{"a":"b"},"data":[{"sourcePath":"my-server.der","targetKey":"trust.der"},
                                                                       {"sourcePath":"rotated/1","targetKey":"previous"}]}}
            """)
        let definition = try ClusterObjects.definition(sync, providerClass: Self.providerClass)
        #expect(definition.name == "azure-iot-operations/aio-opc-ua-broker-trust-list")
        #expect(definition.keyvaultName == "contoso-kv")
        #expect(definition.tenantId == "72f988bf-0000-4000-8000-00000000a105")
        #expect(definition.clientId == "11111111-2222-3333-4444-555555555555")
        #expect(definition.serviceAccount == ServiceAccountReference(namespace: "azure-iot-operations", name: "aio-ssc-sa"))
        #expect(definition.target.name == "aio-opc-ua-broker-trust-list", "the SecretSync's name is the Secret's name")
        #expect(definition.target.namespace == "azure-iot-operations")
        #expect(definition.target.labels == ["a": "b"])
        #expect(definition.forceSynchronization == "7")
        // Only the objects it maps are read: not db-password.
        #expect(definition.objects.map(\.objectName) == ["trust-der", "rotated"])
        #expect(definition.objects[0].objectEncoding == .hex)
        #expect(definition.objects[0].alias == "my-server.der")
        #expect(definition.objects[1].sourcePaths == ["rotated/0", "rotated/1", "rotated/2"], "N+1 paths, as the Azure provider counts")
        #expect(definition.ownerLabelValue == "aio-opc-ua-broker-trust-list")
        #expect(definition.source.kind == "cluster")
    }

    @Test(arguments: [
        (#"{"serviceAccountName":"aio-ssc-sa","secretObject":{"data":[{"sourcePath":"x","targetKey":"y"}]}}"#, "secretProviderClassName is required"),
        (#"{"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"other","secretObject":{"data":[{"sourcePath":"x","targetKey":"y"}]}}"#, "does not exist"),
        (#"{"secretProviderClassName":"aio-spc","secretObject":{"data":[{"sourcePath":"my-server.der","targetKey":"y"}]}}"#, "serviceAccountName is required"),
        (#"{"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"aio-spc","secretObject":{"data":[]}}"#, "at least one"),
        (#"{"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"aio-spc","secretObject":{"data":[{"sourcePath":"nope","targetKey":"y"}]}}"#, "produced by no object"),
        (#"{"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"aio-spc","secretObject":{"type":"kubernetes.io/service-account-token","data":[{"sourcePath":"my-server.der","targetKey":"y"}]}}"#, "not a Secret type"),
    ])
    func invalidObjectsSayWhatIsWrong(spec: String, expected: String) {
        let sync = Self.secretSync(spec)
        let providerClass = spec.contains("\"other\"") ? nil : Self.providerClass
        #expect {
            _ = try ClusterObjects.definition(sync, providerClass: providerClass)
        } throws: { error in
            guard let issue = error as? SyncIssue else { return false }
            return issue.code == "SecretProviderClassMisconfigured" && issue.message.contains(expected)
        }
    }

    @Test func statusUsesTheControllersConditionsAndIsStableWhenNothingChanges() throws {
        let hasher = ContentHasher(key: Array(repeating: 7, count: 32))
        var sync = Self.secretSync(#"{"serviceAccountName":"aio-ssc-sa","secretProviderClassName":"aio-spc"}"#)
        var status = SyncDefinitionStatus(name: sync.key)
        status.lastAttempt = Date(timeIntervalSince1970: 1_800_000_000)
        status.lastSuccess = status.lastAttempt
        status.lastApplied = status.lastAttempt
        status.targetHash = "hmac-sha256:abc"
        let now = Date(timeIntervalSince1970: 1_800_000_100)
        let desired = ClusterStatus.desired(for: sync, status: status, invalid: nil, hasher: hasher, now: now)
        let conditions = try #require(desired["conditions"]?.objectArray)
        #expect(conditions.map { $0["type"]?.string } == ["SecretCreated", "SecretUpdated"])
        #expect(conditions.map { $0["reason"]?.string } == ["CreateSuccessful", "SecretUpToDate"])
        #expect(conditions.allSatisfy { $0["observedGeneration"]?.int == 3 })
        #expect(desired["syncHash"]?.string?.hasPrefix("v1:") == true)
        #expect(desired["syncHash"]?.string?.contains("abc") == false)
        #expect(ClusterStatus.differs(desired, from: sync))

        // Once the object carries it, the same outcome later is not a change (transition times are kept).
        sync.status = try JSONValue.object(desired).encoded()
        let later = ClusterStatus.desired(for: sync, status: status, invalid: nil, hasher: hasher, now: now.addingTimeInterval(3600))
        #expect(!ClusterStatus.differs(later, from: sync))

        // A failure flips SecretUpdated with the controller's reason and aiosd's code and fix in the message.
        status.objects = [SyncObjectStatus(objectName: "trust-der", alias: "my-server.der")]
        status.objects[0].issue = SyncIssue(code: "KeyVaultUnreachable", message: "vault contoso-kv: timeout", hint: "check the network")
        let failed = ClusterStatus.desired(for: sync, status: status, invalid: nil, hasher: hasher, now: now)
        let updated = try #require(failed["conditions"]?.objectArray?.last)
        #expect(updated["status"]?.string == "False")
        #expect(updated["reason"]?.string == "RemoteSecretStoreFetchFailed")
        #expect(updated["message"]?.string?.contains("KeyVaultUnreachable") == true)
        #expect(ClusterStatus.differs(failed, from: sync))
    }
}
