/// `GET /v1/workload-identity`: the issuer K3s is configured with vs the one its API server serves, and the
/// exact `az` command that federates the agent's identity with the service account.
public struct WorkloadIdentityStatusResponse: Codable, Sendable, Equatable {
    /// `service-account-issuer` values in effect, in order (the first signs new tokens).
    public var configuredIssuers: [K3sConfigResponse.Value]
    /// From `/.well-known/openid-configuration`; nil if the API server could not be asked (see `servedIssuerError`).
    public var servedIssuer: String?
    public var servedIssuerError: String?
    public var maxTokenExpiration: K3sConfigResponse.Value?
    /// The issuers K3s started its API server with (its `Running kube-apiserver` log line); nil if not found.
    public var runningIssuers: [String]?
    public var runningMaxTokenExpiration: String?
    /// The configuration differs from what the API server runs with: a restart of K3s would apply it.
    public var restartPending: Bool?
    /// True when an issuer other than K3s' default is configured first and the API server serves it.
    public var enabled: Bool
    public var serviceAccount: String
    public var subject: String
    public var audience: String
    public var federatedCredentialCommand: String

    public init(configuredIssuers: [K3sConfigResponse.Value], servedIssuer: String?, servedIssuerError: String?,
                maxTokenExpiration: K3sConfigResponse.Value?, enabled: Bool, serviceAccount: String, subject: String,
                audience: String, federatedCredentialCommand: String, runningIssuers: [String]? = nil,
                runningMaxTokenExpiration: String? = nil, restartPending: Bool? = nil) {
        self.runningIssuers = runningIssuers
        self.runningMaxTokenExpiration = runningMaxTokenExpiration
        self.restartPending = restartPending
        self.configuredIssuers = configuredIssuers
        self.servedIssuer = servedIssuer
        self.servedIssuerError = servedIssuerError
        self.maxTokenExpiration = maxTokenExpiration
        self.enabled = enabled
        self.serviceAccount = serviceAccount
        self.subject = subject
        self.audience = audience
        self.federatedCredentialCommand = federatedCredentialCommand
    }
}
