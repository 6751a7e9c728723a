/// What Entra ID must trust for workload identity: the cluster's issuer and the service account's subject.
public struct FederatedCredential: Sendable, Equatable {
    public static let audience = "api://AzureADTokenExchange"
    /// The Secret Synchronization Controller's service account in AIO, which the agent stands in for.
    public static let defaultNamespace = "azure-iot-operations"
    public static let defaultServiceAccount = "aio-ssc-sa"

    public var issuer: String
    public var namespace: String
    public var serviceAccount: String

    public init(issuer: String, namespace: String = defaultNamespace, serviceAccount: String = defaultServiceAccount) {
        self.issuer = issuer
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    public var subject: String { "system:serviceaccount:\(namespace):\(serviceAccount)" }

    /// The exact command; the identity and resource group are the operator's to fill in.
    public var azCommand: String {
        "az identity federated-credential create --name aios-\(serviceAccount) --identity-name <user-assigned-identity> "
            + "--resource-group <resource-group> --issuer \(issuer) --subject \(subject) --audience \(Self.audience)"
    }
}
