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
        if let refusal = identityOverrideRefusal(definition, requester: requester, method: identity.method) { throw refusal }
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

    /// The identity rule. Under `managedIdentity` a definition's clientID picks any identity attached to this
    /// machine (IMDS and Arc issue a token for any attached client_id), and under `clientSecret` its clientID or
    /// tenantId presents root's client secret as another app or in another tenant: the node's own credentials,
    /// so only root may set them. Under `workloadIdentity` Entra issues a token only to an identity with a
    /// federated credential for the service account, which the rest of this policy bounds, so operators may.
    /// Returns nil when `requester` may use `definition`'s overrides under `method`.
    public static func identityOverrideRefusal(_ definition: SyncDefinition, requester: Privilege,
                                               method: IdentityConfiguration.Method) -> PolicyRefusal? {
        guard requester < .root, method != .workloadIdentity else { return nil }
        let fields = [definition.clientId.map { _ in "clientID" }, definition.tenantId.map { _ in "tenantId" }].compactMap { $0 }
        guard !fields.isEmpty else { return nil }
        let reason = switch method {
        case .managedIdentity: "IMDS and Arc issue a token for any identity attached to this machine by its client id, so that chooses one of the node's own identities"
        case .clientSecret, .workloadIdentity: "that presents the node's client secret (identity.clientSecretFile) as another app or in another tenant"
        }
        return PolicyRefusal(
            rule: "identity-override", kind: .needsPrivilege(.root),
            message: "\(definition.name) sets \(fields.joined(separator: " and ")) under identity.method \(method.rawValue): \(reason); only root (uid 0 or control.k3sAdminGroup) may",
            hint: "leave out clientID and tenantId to use identity in /etc/aios/aiosd.yaml, or ask root to add the definition")
    }
}
