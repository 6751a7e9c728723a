import FoundationEssentials

/// The identity one definition reads its vault as: the agent's configured identity with the definition's
/// overrides applied. Definitions with equal identities share one credential and one token cache.
public struct SyncIdentity: Sendable, Hashable, CustomStringConvertible {
    public var method: IdentityConfiguration.Method
    public var tenantId: String
    public var clientId: String?
    public var serviceAccount: ServiceAccountReference?
    public var clientSecretFile: String?
    public var managedIdentityEndpoint: IdentityConfiguration.ManagedIdentityEndpoint?
    public var authorityHost: String

    /// The audience of service-account tokens exchanged with Entra ID (federated credentials' default).
    public static let tokenExchangeAudience = "api://AzureADTokenExchange"

    /// The identity for `definition`, or why there is none. An operator's definition is held to today's
    /// `secrets:` policy first (see `operatorPolicyIssue`).
    public static func resolve(_ definition: SyncDefinition, configuration: IdentityConfiguration,
                               policy: SecretsPolicyConfiguration) throws(SyncIssue) -> SyncIdentity {
        if case .cluster(let origin) = definition.source {
            return try clusterIdentity(definition, origin: origin, authorityHost: configuration.authorityHost)
        }
        if let issue = operatorPolicyIssue(definition, configuration: configuration, policy: policy) { throw issue }
        guard let tenant = definition.tenantId ?? configuration.tenantId else {
            throw SyncIssue(code: "IdentityNotConfigured", message: "no tenant id: set identity.tenantId in /etc/aios/aiosd.yaml (or tenantId in the definition)",
                            hint: "edit /etc/aios/aiosd.yaml, then: aiosctl config reload")
        }
        let client = definition.clientId ?? configuration.clientId
        switch configuration.method {
        case .workloadIdentity:
            guard let client else {
                throw SyncIssue(code: "IdentityNotConfigured", message: "workload identity needs the managed identity's client id: set identity.clientId in /etc/aios/aiosd.yaml",
                                hint: "az identity show -g <RESOURCE-GROUP> -n <IDENTITY> --query clientId")
            }
            return SyncIdentity(method: .workloadIdentity, tenantId: tenant, clientId: client,
                                serviceAccount: definition.serviceAccount ?? configuration.serviceAccount,
                                authorityHost: configuration.authorityHost)
        case .clientSecret:
            guard let client else {
                throw SyncIssue(code: "IdentityNotConfigured", message: "a client secret needs the app's client id: set identity.clientId in /etc/aios/aiosd.yaml")
            }
            return SyncIdentity(method: .clientSecret, tenantId: tenant, clientId: client, clientSecretFile: configuration.clientSecretFile,
                                authorityHost: configuration.authorityHost)
        case .managedIdentity:
            return SyncIdentity(method: .managedIdentity, tenantId: tenant, clientId: client,
                                managedIdentityEndpoint: configuration.managedIdentityEndpoint, authorityHost: configuration.authorityHost)
        }
    }

    /// An operator's definition stays within the bounds root sets now, not only those of the day it was added:
    /// after root narrows `secrets.allowedNamespaces`/`allowedServiceAccounts` or switches `identity.method`,
    /// the same policy as `secret add` refuses it at every sync, before anything is read or written.
    static func operatorPolicyIssue(_ definition: SyncDefinition, configuration: IdentityConfiguration,
                                    policy: SecretsPolicyConfiguration) -> SyncIssue? {
        guard definition.writtenBy < .root else { return nil }
        do throws(PolicyRefusal) {
            try SecretDefinitionPolicy.check(definition, requester: definition.writtenBy, policy: policy, identity: configuration)
            return nil
        } catch {
            let code = switch error.rule {
            case "identity-override": "IdentityOverrideNotAllowed"
            case "secrets.allowedServiceAccounts": "ServiceAccountNotAllowed"
            default: "TargetNotAllowed"
            }
            let hint = error.rule == "identity-override"
                ? "drop clientID and tenantId from the definition, or ask root to add it again (aiosctl secret add --replace)"
                : "ask root to allow it again in /etc/aios/aiosd.yaml (secrets:), to add it again (aiosctl secret add --replace), or to remove it (aiosctl secret remove \(definition.name))"
            return SyncIssue(code: code, message: "written by an operator: \(error.message)", hint: hint)
        }
    }

    /// A SecretSync is read as workload identity of its own service account in its own namespace, with its
    /// SecretProviderClass's tenant and client id, whatever identity aiosd.yaml configures: anyone who may create
    /// a SecretSync in a namespace must never borrow the node's managed identity or client secret, nor pick an
    /// identity attached to the machine by naming its client id. The federated credential on that client id
    /// (issuer + `system:serviceaccount:NS:SA`) is what decides whether the namespace may read the vault.
    static func clusterIdentity(_ definition: SyncDefinition, origin: SyncDefinition.ClusterOrigin,
                                authorityHost: String) throws(SyncIssue) -> SyncIdentity {
        let spc = "SecretProviderClass \(origin.namespace)/\(origin.secretProviderClass)"
        guard let tenant = definition.tenantId else {
            throw SyncIssue(code: "IdentityNotConfigured", message: "SecretSync \(definition.name): \(spc) has no parameters.tenantID; a SecretSync is read as workload identity of its own service account, with the tenant and client id of its SecretProviderClass",
                            hint: "kubectl -n \(origin.namespace) edit secretproviderclass \(origin.secretProviderClass)")
        }
        guard let client = definition.clientId else {
            throw SyncIssue(code: "IdentityNotConfigured", message: "SecretSync \(definition.name): \(spc) has no parameters.clientID; a SecretSync is read as workload identity of its own service account, never with the node's identity",
                            hint: "kubectl -n \(origin.namespace) edit secretproviderclass \(origin.secretProviderClass)")
        }
        guard let account = definition.serviceAccount, account.namespace == origin.namespace else {
            throw SyncIssue(code: "IdentityNotConfigured", message: "SecretSync \(definition.name): spec.serviceAccountName is required (a service account in namespace \(origin.namespace))")
        }
        return SyncIdentity(method: .workloadIdentity, tenantId: tenant, clientId: client, serviceAccount: account, authorityHost: authorityHost)
    }

    public var description: String {
        switch method {
        case .workloadIdentity: "workload identity \(clientId ?? "?") via service account \(serviceAccount?.description ?? "?")"
        case .clientSecret: "client secret of \(clientId ?? "?")"
        case .managedIdentity: "managed identity (\(managedIdentityEndpoint?.rawValue ?? "imds"))\(clientId.map { " " + $0 } ?? "")"
        }
    }
}
