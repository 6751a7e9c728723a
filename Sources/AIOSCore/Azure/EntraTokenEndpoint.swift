import AIOSHTTP
import FoundationEssentials

/// Entra ID's v2 token endpoint, `{authorityHost}/{tenant}/oauth2/v2.0/token`, client-credentials grant.
struct EntraTokenEndpoint: Sendable {
    static let defaultAuthorityHost = "https://login.microsoftonline.com"
    /// A token response or an error page is a few KB.
    static let maximumResponseBytes = 256 << 10

    /// Without a trailing slash.
    let authorityHost: String
    let caBundlePEM: [UInt8]?
    let transport: HTTPTransport

    init(authorityHost: String, caBundlePEM: [UInt8]?, transport: HTTPTransport) throws(AzureAuthError) {
        var host = authorityHost
        while host.hasSuffix("/") { host.removeLast() }
        guard let url = URLComponents(string: host), url.scheme?.lowercased() == "https", let name = url.host, !name.isEmpty,
              url.query == nil, url.user == nil else {
            throw AzureAuthError(code: "invalid_configuration",
                                 message: "authority host '\(authorityHost)' is not an https URL (e.g. \(Self.defaultAuthorityHost))",
                                 isRetryable: false)
        }
        self.authorityHost = host
        self.caBundlePEM = caBundlePEM
        self.transport = transport
    }

    /// A GUID or a domain name; anything else could change the URL path.
    static func validate(tenant: String) throws(AzureAuthError) {
        let allowed = tenant.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E }
        guard !tenant.isEmpty, tenant.count <= 256, allowed, !tenant.hasPrefix(".") else {
            throw AzureAuthError(code: "invalid_configuration", message: "tenant '\(tenant)' is not a tenant id or domain name", isRetryable: false)
        }
    }

    /// The credential asks for `resource`'s `/.default` scope; `form` adds how the client proves who it is.
    func requestToken(tenant: String, clientId: String, resource: String, credentialFields: [(String, String)],
                      context: EntraErrorMapper.Context) throws(AzureAuthError) -> AccessToken {
        try Self.validate(tenant: tenant)
        let scope = resource.hasSuffix("/.default") ? resource : resource + "/.default"
        let form = [("grant_type", "client_credentials"), ("client_id", clientId), ("scope", scope)] + credentialFields
        let request = HTTPRequest(method: .post, url: "\(authorityHost)/\(tenant)/oauth2/v2.0/token",
                                  headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                  body: Array(FormEncoding.encode(form).utf8), timeout: .seconds(30),
                                  tls: caBundlePEM.map { TLSCredentials(caBundlePEM: $0) }, usesOutboundProxy: true,
                                  maximumResponseBytes: Self.maximumResponseBytes)
        let response: HTTPResponse
        do {
            response = try MetricsRegistry.shared.measured(service: "entra") { () throws(HTTPClientError) in try transport.send(request) }
        } catch {
            throw AzureAuthError(code: "entra_unreachable", message: "cannot reach Entra ID at \(authorityHost): \(error.message)",
                                 isRetryable: true)
        }
        guard response.status == 200 else {
            throw EntraErrorMapper.error(status: response.status, body: response.body, context: context)
        }
        guard let token = TokenResponseParser.parse(response.body, now: Date()) else {
            throw AzureAuthError(code: "invalid_response", message: "Entra ID answered 200 without an access_token and expiry",
                                 isRetryable: true, httpStatus: 200)
        }
        return token
    }
}
