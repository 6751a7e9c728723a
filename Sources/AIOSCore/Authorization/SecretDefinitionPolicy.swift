/// What an operator's `secret add` (and `secret remove`) may target: `secrets:` in the root-owned aiosd.yaml.
/// Root is not bounded; nobody but root targets kube-system.
public struct SecretsPolicyConfiguration: Sendable, Equatable {
    /// Namespaces an operator's definition may write its Secret to.
    public var allowedNamespaces: [String] = ["azure-iot-operations"]
    /// Service accounts (`NAMESPACE/NAME`, or `NAMESPACE/*`) an operator's definition may name to read the vault
    /// as, besides `identity.serviceAccount` (the one root configured, always allowed).
    public var allowedServiceAccounts: [String] = []

    /// The namespace only root may target.
    public static let systemNamespace = "kube-system"

    public init() {}
}

public enum SecretDefinitionPolicy {
    /// Refuses a definition `requester` may not add or remove under `policy`.
    public static func check(_ definition: SyncDefinition, requester: Privilege, policy: SecretsPolicyConfiguration,
                             identity: IdentityConfiguration) throws(PolicyRefusal) {
        guard requester < .root else { return }
        let namespace = definition.target.namespace
        if namespace == SecretsPolicyConfiguration.systemNamespace {
            throw PolicyRefusal(rule: "no-kube-system", kind: .needsPrivilege(.root),
                                message: "\(definition.name) targets a Secret in kube-system; only root (uid 0 or control.k3sAdminGroup) may")
        }
        guard policy.allowedNamespaces.contains(namespace) else {
            throw PolicyRefusal(
                rule: "secrets.allowedNamespaces", kind: .needsPrivilege(.root),
                message: "\(definition.name) targets namespace \(namespace), which secrets.allowedNamespaces in aiosd.yaml does not allow operators (allowed: \(policy.allowedNamespaces.joined(separator: ", "))); root may",
                hint: "use --namespace \(policy.allowedNamespaces.first ?? "NS"), or ask root to add \(namespace) to secrets.allowedNamespaces in /etc/aios/aiosd.yaml")
        }
        if let account = definition.serviceAccount, account != identity.serviceAccount {
            let allowed = account.namespace != SecretsPolicyConfiguration.systemNamespace && policy.allowedServiceAccounts.contains {
                $0 == account.description || $0 == "\(account.namespace)/*"
            }
            guard allowed else {
                throw PolicyRefusal(
                    rule: "secrets.allowedServiceAccounts", kind: .needsPrivilege(.root),
                    message: "\(definition.name) reads the vault as service account \(account), which secrets.allowedServiceAccounts in aiosd.yaml does not allow operators (allowed: \(([identity.serviceAccount.description] + policy.allowedServiceAccounts).joined(separator: ", "))); root may",
                    hint: "leave out the service account to use \(identity.serviceAccount), or ask root to add \(account) to secrets.allowedServiceAccounts in /etc/aios/aiosd.yaml")
            }
        }
    }
}
