/// An application's client secret, read from a root-owned file of mode 0600 or stricter on every token
/// request, so a rotated secret is picked up without a restart.
public struct ClientSecretCredential: TokenCredential {
    public let tenantId: String
    public let clientId: String
    public let secretFile: String
    private let endpoint: EntraTokenEndpoint

    public init(tenantId: String, clientId: String, secretFile: String, authorityHost: String = "https://login.microsoftonline.com",
                caBundlePEM: [UInt8]? = nil) throws(AzureAuthError) {
        try self.init(tenantId: tenantId, clientId: clientId, secretFile: secretFile, authorityHost: authorityHost,
                      caBundlePEM: caBundlePEM, transport: .curl)
    }

    init(tenantId: String, clientId: String, secretFile: String, authorityHost: String, caBundlePEM: [UInt8]?,
         transport: HTTPTransport) throws(AzureAuthError) {
        try EntraTokenEndpoint.validate(tenant: tenantId)
        self.tenantId = tenantId
        self.clientId = clientId
        self.secretFile = secretFile
        self.endpoint = try EntraTokenEndpoint(authorityHost: authorityHost, caBundlePEM: caBundlePEM, transport: transport)
    }

    public func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let tenant = try TenantCheck.resolve(requested: tenant, configured: tenantId, clientId: clientId)
        let secret = try readSecret()
        let context = EntraErrorMapper.Context(tenant: tenant, clientId: clientId, assertionClaims: nil, secrets: [secret])
        return try endpoint.requestToken(tenant: tenant, clientId: clientId, resource: resource,
                                         credentialFields: [("client_secret", secret)], context: context)
    }

    func readSecret() throws(AzureAuthError) -> String {
        let text: String?
        do {
            text = try SecureFileReader.readIfPresent(path: secretFile, maximumBytes: 4096, access: .privateCredential)
        } catch {
            throw AzureAuthError(code: "secret_file", message: "client secret file \(secretFile) \(error.description)", isRetryable: false)
        }
        guard var secret = text else {
            throw AzureAuthError(code: "secret_file", message: "client secret file \(secretFile) does not exist", isRetryable: false)
        }
        while let last = secret.last, last.isNewline { secret.removeLast() }
        guard !secret.isEmpty else {
            throw AzureAuthError(code: "secret_file", message: "client secret file \(secretFile) is empty", isRetryable: false)
        }
        return secret
    }
}
