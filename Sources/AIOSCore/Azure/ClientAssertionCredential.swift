/// Workload identity: exchanges a Kubernetes service-account token (audience `api://AzureADTokenExchange`)
/// for an Entra ID token through a federated identity credential. The assertion is obtained afresh for
/// every token request, because service-account tokens live much shorter than the access tokens.
public struct ClientAssertionCredential: TokenCredential {
    public let tenantId: String
    public let clientId: String
    private let endpoint: EntraTokenEndpoint
    private let assertion: @Sendable () throws -> String

    /// - Parameters:
    ///   - authorityHost: https URL of Entra ID; a trailing slash is accepted.
    ///   - caBundlePEM: trust anchors for the authority, when not the system's.
    ///   - assertion: returns the service-account JWT (TokenRequest); called once per token request.
    public init(tenantId: String, clientId: String, authorityHost: String = "https://login.microsoftonline.com",
                caBundlePEM: [UInt8]? = nil, assertion: @escaping @Sendable () throws -> String) throws(AzureAuthError) {
        try self.init(tenantId: tenantId, clientId: clientId, authorityHost: authorityHost, caBundlePEM: caBundlePEM,
                      transport: .curl, assertion: assertion)
    }

    init(tenantId: String, clientId: String, authorityHost: String, caBundlePEM: [UInt8]?, transport: HTTPTransport,
         assertion: @escaping @Sendable () throws -> String) throws(AzureAuthError) {
        try EntraTokenEndpoint.validate(tenant: tenantId)
        self.tenantId = tenantId
        self.clientId = clientId
        self.endpoint = try EntraTokenEndpoint(authorityHost: authorityHost, caBundlePEM: caBundlePEM, transport: transport)
        self.assertion = assertion
    }

    public func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let tenant = try TenantCheck.resolve(requested: tenant, configured: tenantId, clientId: clientId)
        let jwt: String
        do {
            jwt = try assertion()
        } catch let error as AzureAuthError {
            throw error
        } catch {
            throw AzureAuthError(code: "assertion_unavailable", message: "cannot obtain a service-account token for the assertion: \(error)",
                                 isRetryable: true)
        }
        let context = EntraErrorMapper.Context(tenant: tenant, clientId: clientId, assertionClaims: JWTClaims.decodeUnverified(jwt),
                                               secrets: [jwt])
        return try endpoint.requestToken(
            tenant: tenant, clientId: clientId, resource: resource,
            credentialFields: [("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                               ("client_assertion", jwt)],
            context: context)
    }
}
