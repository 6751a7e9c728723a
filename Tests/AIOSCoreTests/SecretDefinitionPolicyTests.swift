import AIOSCore
import Testing

/// What an operator's `secret add`/`remove` may target under `secrets:` in aiosd.yaml; root is not bounded.
@Suite struct SecretDefinitionPolicyTests {
    static func definition(namespace: String, account: String? = nil) -> SyncDefinition {
        SyncDefinition(name: "db", source: .file(path: "/etc/aios/secrets.d/db.yaml"), keyvaultName: "contoso-kv",
                       serviceAccount: account.flatMap(ServiceAccountReference.init(parsing:)),
                       objects: [SyncObject(objectName: "db-password")], target: TargetSecret(namespace: namespace, name: "db"))
    }

    static func refusal(_ definition: SyncDefinition, as requester: Privilege, policy: SecretsPolicyConfiguration = .init()) -> PolicyRefusal? {
        do {
            try SecretDefinitionPolicy.check(definition, requester: requester, policy: policy, identity: IdentityConfiguration())
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultPolicyAllowsOnlyAzureIoTOperations() throws {
        #expect(Self.refusal(Self.definition(namespace: "azure-iot-operations"), as: .operator) == nil)
        let other = try #require(Self.refusal(Self.definition(namespace: "default"), as: .operator))
        #expect(other.rule == "secrets.allowedNamespaces")
        #expect(other.kind == .needsPrivilege(.root))
        #expect(other.message.contains("targets namespace default"))
        #expect(other.hint?.contains("--namespace azure-iot-operations") == true)
        #expect(Self.refusal(Self.definition(namespace: "default"), as: .root) == nil)
    }

    @Test func kubeSystemIsRootsAloneWhateverThePolicySays() throws {
        var policy = SecretsPolicyConfiguration()
        policy.allowedNamespaces = ["kube-system", "apps"]  // the loader refuses this; the policy holds anyway
        let refusal = try #require(Self.refusal(Self.definition(namespace: "kube-system"), as: .operator, policy: policy))
        #expect(refusal.rule == "no-kube-system")
        #expect(Self.refusal(Self.definition(namespace: "kube-system"), as: .root) == nil)
    }

    @Test func configuredNamespacesAreHonoured() {
        var policy = SecretsPolicyConfiguration()
        policy.allowedNamespaces = ["apps"]
        #expect(Self.refusal(Self.definition(namespace: "apps"), as: .operator, policy: policy) == nil)
        #expect(Self.refusal(Self.definition(namespace: "azure-iot-operations"), as: .operator, policy: policy) != nil)
    }

    @Test func serviceAccounts() throws {
        // The configured identity.serviceAccount is root's choice: always allowed.
        #expect(Self.refusal(Self.definition(namespace: "azure-iot-operations", account: "azure-iot-operations/aio-ssc-sa"), as: .operator) == nil)
        let other = try #require(Self.refusal(Self.definition(namespace: "azure-iot-operations", account: "azure-iot-operations/other"), as: .operator))
        #expect(other.rule == "secrets.allowedServiceAccounts")
        #expect(other.hint?.contains("azure-iot-operations/aio-ssc-sa") == true)
        #expect(Self.refusal(Self.definition(namespace: "azure-iot-operations", account: "azure-iot-operations/other"), as: .root) == nil)

        var policy = SecretsPolicyConfiguration()
        policy.allowedServiceAccounts = ["apps/reader", "tools/*"]
        for (account, allowed) in [("apps/reader", true), ("apps/writer", false), ("tools/anything", true), ("kube-system/x", false)] {
            let refusal = Self.refusal(Self.definition(namespace: "azure-iot-operations", account: account), as: .operator, policy: policy)
            #expect((refusal == nil) == allowed, "\(account)")
        }
        policy.allowedServiceAccounts = ["kube-system/*"]  // the loader refuses this; the policy holds anyway
        #expect(Self.refusal(Self.definition(namespace: "azure-iot-operations", account: "kube-system/x"), as: .operator, policy: policy) != nil)
    }
}

/// The identity rule: operators may override clientID/tenantId only under workload identity, where the federated
/// credential of a bounded service account is the boundary; under managedIdentity and clientSecret those fields
/// choose the node's own credentials.
@Suite struct SecretIdentityOverridePolicyTests {
    enum Field: CaseIterable { case clientId, tenantId, serviceAccount }

    static let guid = "11111111-2222-3333-4444-555555555555"

    static func definition(overriding field: Field) -> SyncDefinition {
        var definition = SecretDefinitionPolicyTests.definition(namespace: "azure-iot-operations")
        switch field {
        case .clientId: definition.clientId = guid
        case .tenantId: definition.tenantId = guid
        case .serviceAccount: definition.serviceAccount = ServiceAccountReference(namespace: "apps", name: "reader")
        }
        return definition
    }

    static func refusal(_ definition: SyncDefinition, as requester: Privilege, method: IdentityConfiguration.Method) -> PolicyRefusal? {
        var identity = IdentityConfiguration()
        identity.method = method
        var policy = SecretsPolicyConfiguration()
        policy.allowedServiceAccounts = ["apps/reader"]
        do {
            try SecretDefinitionPolicy.check(definition, requester: requester, policy: policy, identity: identity)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: IdentityConfiguration.Method.allCases)
    func eachFieldForEachLevel(method: IdentityConfiguration.Method) throws {
        for field in Field.allCases {
            let definition = Self.definition(overriding: field)
            #expect(Self.refusal(definition, as: .root, method: method) == nil, "root, \(field)")
            let nodeCredential = method != .workloadIdentity && field != .serviceAccount
            for requester in [Privilege.reader, .operator] {
                let refusal = Self.refusal(definition, as: requester, method: method)
                #expect((refusal != nil) == nodeCredential, "\(requester), \(method), \(field): \(String(describing: refusal))")
                guard let refusal else { continue }
                #expect(refusal.rule == "identity-override")
                #expect(refusal.kind == .needsPrivilege(.root))
                #expect(refusal.message.contains("sets \(field == .clientId ? "clientID" : "tenantId") under identity.method \(method.rawValue)"))
                #expect(refusal.message.contains("only root (uid 0 or control.k3sAdminGroup) may"))
                #expect(refusal.hint?.contains("leave out clientID and tenantId") == true)
            }
        }
    }

    @Test func reasonsNameTheNodesCredential() throws {
        var both = Self.definition(overriding: .clientId)
        both.tenantId = Self.guid
        let managed = try #require(Self.refusal(both, as: .operator, method: .managedIdentity))
        #expect(managed.message.contains("sets clientID and tenantId"))
        #expect(managed.message.contains("any identity attached to this machine"))
        let secret = try #require(Self.refusal(both, as: .operator, method: .clientSecret))
        #expect(secret.message.contains("the node's client secret"))
    }

    @Test func serviceAccountIsBoundedUnderEveryMethod() {
        // Unused outside workload identity, but a definition outlives a change of identity.method.
        var definition = Self.definition(overriding: .serviceAccount)
        definition.serviceAccount = ServiceAccountReference(namespace: "apps", name: "writer")
        for method in IdentityConfiguration.Method.allCases {
            #expect(Self.refusal(definition, as: .operator, method: method)?.rule == "secrets.allowedServiceAccounts", "\(method)")
        }
    }

    /// An operator's definition stays bounded when root later switches to managedIdentity; root's (and a
    /// hand-written file's) is used as written.
    @Test func syncHoldsAnOperatorsDefinitionToTheRuleAfterAMethodChange() throws {
        var identity = IdentityConfiguration()
        identity.method = .managedIdentity
        identity.tenantId = "99999999-2222-3333-4444-555555555555"
        var definition = Self.definition(overriding: .clientId)
        #expect(try SyncIdentity.resolve(definition, configuration: identity, policy: SecretsPolicyConfiguration()).clientId == Self.guid)
        definition.writtenBy = .operator
        do {
            _ = try SyncIdentity.resolve(definition, configuration: identity, policy: SecretsPolicyConfiguration())
            Issue.record("an operator's clientID reached IMDS")
        } catch {
            #expect(error.code == "IdentityOverrideNotAllowed")
            #expect(error.message.contains("written by an operator"))
        }
        identity.method = .workloadIdentity
        identity.clientId = "88888888-2222-3333-4444-555555555555"
        #expect(try SyncIdentity.resolve(definition, configuration: identity, policy: SecretsPolicyConfiguration()).clientId == Self.guid)
    }

    @Test func theFileRecordsWhoWroteIt() throws {
        var definition = Self.definition(overriding: .clientId)
        let path = "/etc/aios/secrets.d/db.yaml"
        func parse(_ text: String) throws -> SyncDefinition {
            try SyncDefinitionFile.parse(text, file: path, name: "db", defaultNamespace: "azure-iot-operations")
        }
        #expect(!SyncDefinitionFile.render(definition).contains("writtenBy"))
        #expect(try parse(SyncDefinitionFile.render(definition)).writtenBy == .root)
        definition.writtenBy = .operator
        let text = SyncDefinitionFile.render(definition)
        #expect(text.contains("\nwrittenBy: operator\n"))
        #expect(try parse(text) == definition)
        // By hand: root's unless it says otherwise.
        let byHand = "keyvaultName: contoso-kv\nclientID: \(Self.guid)\nobjects:\n  - objectName: db-password\n"
        #expect(try parse(byHand).writtenBy == .root)
        #expect(try parse(byHand + "writtenBy: root\n").writtenBy == .root)
        #expect(try parse(byHand + "writtenBy: operator\n").writtenBy == .operator)
        #expect(throws: ConfigurationError.self) { try parse(byHand + "writtenBy: admin\n") }
    }
}
