import AIOSCore
import Testing

@Suite struct SyncDefinitionTests {
    let full = """
        keyvaultName: contoso-kv
        tenantId: 72f988bf-0000-4000-8000-00000000a105
        clientID: 11111111-2222-3333-4444-555555555555
        serviceAccountName: azure-iot-operations/aio-ssc-sa
        objects:
          - objectName: db-password
            objectAlias: password
          - objectName: trust-list
            objectEncoding: hex
            objectVersionHistory: 2
          - objectName: web-cert
            objectType: cert
        secretObject:
          namespace: apps
          name: db-secret
          labels: {team: a}
          annotations: {note: "synced"}
          data:
            - sourcePath: password
              targetKey: password
            - sourcePath: trust-list/1
              targetKey: trust-previous.der
            - sourcePath: web-cert
              targetKey: ca.crt
        forceSynchronization: "1"
        """

    @Test func parsesEveryFieldOfTheControllersVocabulary() throws {
        let definition = try SyncDefinitionFile.parse(full, file: "/etc/aios/secrets.d/db.yaml", name: "db", defaultNamespace: "azure-iot-operations")
        #expect(definition.keyvaultName == "contoso-kv")
        #expect(definition.serviceAccount == ServiceAccountReference(namespace: "azure-iot-operations", name: "aio-ssc-sa"))
        #expect(definition.objects.count == 3)
        #expect(definition.objects[0].alias == "password")
        #expect(definition.objects[1].objectEncoding == .hex)
        #expect(definition.objects[1].sourcePaths == ["trust-list/0", "trust-list/1", "trust-list/2"], "N+1 paths, as the Azure provider counts")
        #expect(definition.objects[2].objectType == .cert)
        #expect(definition.target == TargetSecret(namespace: "apps", name: "db-secret", labels: ["team": "a"], annotations: ["note": "synced"],
                                                  data: [KeyMapping(sourcePath: "password", targetKey: "password"),
                                                         KeyMapping(sourcePath: "trust-list/1", targetKey: "trust-previous.der"),
                                                         KeyMapping(sourcePath: "web-cert", targetKey: "ca.crt")]))
        #expect(definition.forceSynchronization == "1")
    }

    @Test func renderedFileParsesBackToTheSameDefinition() throws {
        let file = "/etc/aios/secrets.d/db.yaml"
        let definition = try SyncDefinitionFile.parse(full, file: file, name: "db", defaultNamespace: "x")
        let again = try SyncDefinitionFile.parse(SyncDefinitionFile.render(definition), file: file, name: "db", defaultNamespace: "x")
        #expect(again == definition)
    }

    @Test func defaultsFollowTheController() throws {
        let definition = try SyncDefinitionFile.parse("keyvaultName: kv-one\nobjects:\n  - objectName: plain\n", file: "f", name: "plain",
                                                      defaultNamespace: "azure-iot-operations")
        #expect(definition.target.namespace == "azure-iot-operations")
        #expect(definition.target.name == "plain")
        #expect(definition.target.type == .opaque)
        #expect(definition.objects[0].objectEncoding == .utf8)
        #expect(definition.objects[0].objectFormat == .pem)
        #expect(definition.effectiveMappings == [KeyMapping(sourcePath: "plain", targetKey: "plain")])
    }

    @Test(arguments: [
        ("objects:\n  - objectName: a\n", "keyvaultName"),
        ("keyvaultName: kv-one\n", "objects"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\n    objectEncoding: utf16\n", "objects[0].objectEncoding"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\n    objectVersion: latest\n", "objects[0].objectVersion"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a_b\n", "objects[0].objectName"),
        ("keyvaultName: kv_one\nobjects:\n  - objectName: a\n", "keyvaultName"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\nsecretObject:\n  namespace: Bad_NS\n", "secretObject.namespace"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\nsecretObject:\n  data:\n    - sourcePath: b\n      targetKey: b\n", "secretObject.data[0].sourcePath"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\nsecretObject:\n  data:\n    - sourcePath: a\n      targetKey: a/b\n", "secretObject.data[0].targetKey"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\nsecretObject:\n  type: kubernetes.io/tls\n  data:\n    - sourcePath: a\n      targetKey: cert\n", "secretObject.data"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\nsecretObject:\n  labels: {aios.microsoft.com/sync: x}\n", "secretObject.labels"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\n  - objectName: a\n", "objects[1].objectAlias"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\n    objectType: cert\n    objectEncoding: hex\n", "objects[0].objectEncoding"),
        ("keyvaultName: kv-one\nobjects:\n  - objectName: a\ntypo: 1\n", "typo"),
        ("keyvaultName: kv-one\nserviceAccountName: nope\nobjects:\n  - objectName: a\n", "serviceAccountName"),
    ])
    func invalidDefinitionsNameTheKey(yaml: String, key: String) {
        #expect {
            _ = try SyncDefinitionFile.parse(yaml, file: "/etc/aios/secrets.d/x.yaml", name: "x", defaultNamespace: "default")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == key && error.file == "/etc/aios/secrets.d/x.yaml"
        }
    }

    @Test func namesFollowKubernetesAndKeyVaultRules() {
        #expect(KubernetesNames.isSubdomain("aio-opc-ua-broker-trust-list"))
        #expect(!KubernetesNames.isSubdomain("Upper"))
        #expect(!KubernetesNames.isSubdomain(String(repeating: "a", count: 254)))
        #expect(KubernetesNames.isLabel("azure-iot-operations"))
        #expect(!KubernetesNames.isLabel("-x"))
        #expect(KubernetesNames.isSecretKey("tls.crt") && KubernetesNames.isSecretKey("a_b-c.d"))
        #expect(!KubernetesNames.isSecretKey("..") && !KubernetesNames.isSecretKey("a/b"))
        #expect(KubernetesNames.isVaultName("contoso-kv") && !KubernetesNames.isVaultName("kv") && !KubernetesNames.isVaultName("a--b"))
        #expect(KubernetesNames.isVaultObjectName("Db-Password1") && !KubernetesNames.isVaultObjectName("db.password"))
        #expect(KubernetesNames.isVaultVersion("0a1b2c3d4e5f60718293a4b5c6d7e8f9") && !KubernetesNames.isVaultVersion("latest"))
        #expect(KubernetesNames.isGUID("72f988bf-0000-4000-8000-00000000a105") && !KubernetesNames.isGUID("72f988bf00004000800000000000a105"))
    }

    @Test func valuesAreDecodedAsTheProviderDoes() throws {
        #expect(try ObjectContent.materialize(SyncObject(objectName: "a"), value: "héllo", contentType: nil) == Array("héllo".utf8))
        #expect(try ObjectContent.materialize(SyncObject(objectName: "a", objectEncoding: .hex), value: "DEADbeef", contentType: nil)
                == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try ObjectContent.materialize(SyncObject(objectName: "a", objectEncoding: .base64), value: "AAEC/w==", contentType: nil)
                == [0, 1, 2, 255])
        for (encoding, bad) in [(SyncObject.Encoding.hex, "PLANTED-not-hex"), (.base64, "PLANTED-not base64!")] {
            #expect {
                _ = try ObjectContent.materialize(SyncObject(objectName: "a", objectEncoding: encoding), value: bad, contentType: nil)
            } throws: { error in
                // The value never appears in the error.
                guard let issue = error as? SyncIssue else { return false }
                return issue.code == "DecodeFailed" && !issue.description.contains("PLANTED") && !(issue.hint ?? "").contains("PLANTED")
            }
        }
    }
}
