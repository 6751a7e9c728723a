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
