import AIOSHTTP
import FoundationEssentials

/// The machine's managed identity: Azure IMDS on Azure VMs, or the Azure Arc Connected Machine agent's local
/// endpoint (with its key-file challenge) on Arc-enabled servers. Neither goes through a proxy.
public struct ManagedIdentityCredential: TokenCredential {
    public enum Source: Sendable {
        /// Azure IMDS. `clientId` selects a user-assigned identity; nil means the system-assigned one.
        case imds(clientId: String? = nil, endpoint: String = "http://169.254.169.254/metadata/identity/oauth2/token")
        /// Azure Arc (HIMDS). `tokenDirectory` is where the agent writes challenge keys.
        case arc(identityEndpoint: String = "http://localhost:40342/metadata/identity/oauth2/token",
                 tokenDirectory: String = "/var/opt/azcmagent/tokens")
    }

    public let source: Source
    private let transport: HTTPTransport
    /// A token response is a few KB.
    static let maximumResponseBytes = 256 << 10

    public init(source: Source) { self.init(source: source, transport: .curl) }

    init(source: Source, transport: HTTPTransport) {
        self.source = source
        self.transport = transport
    }

    /// `tenant` is ignored: a managed identity lives in the tenant of its machine.
    public func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let resource = resource.hasSuffix("/.default") ? String(resource.dropLast("/.default".count)) : resource
        switch source {
        case .imds(let clientId, let endpoint):
            var query = [("api-version", "2018-02-01"), ("resource", resource)]
            if let clientId { query.append(("client_id", clientId)) }
            let response = try get("\(endpoint)?\(FormEncoding.encode(query))", authorization: nil, service: "IMDS")
            return try parse(response, service: "IMDS")
        case .arc(let identityEndpoint, let tokenDirectory):
            let url = "\(identityEndpoint)?\(FormEncoding.encode([("api-version", "2020-06-01"), ("resource", resource)]))"
            let challenge = try get(url, authorization: nil, service: "Azure Arc")
            guard challenge.status == 401 else { return try parse(challenge, service: "Azure Arc") }
            try Self.checkArcListener(identityEndpoint)
            let key = try Self.readArcKey(wwwAuthenticate: challenge.header("WWW-Authenticate"), tokenDirectory: tokenDirectory)
            let response = try get(url, authorization: "Basic \(key)", service: "Azure Arc")
            return try parse(response, service: "Azure Arc")
        }
    }

    private func get(_ url: String, authorization: String?, service: String) throws(AzureAuthError) -> HTTPResponse {
        var headers = [("Metadata", "true")]
        if let authorization { headers.append(("Authorization", authorization)) }
        do {
            let request = HTTPRequest(method: .get, url: url, headers: headers, timeout: .seconds(10), bypassesProxy: true,
                                      maximumResponseBytes: Self.maximumResponseBytes)
            return try MetricsRegistry.shared.measured(service: "managed_identity") { () throws(HTTPClientError) in try transport.send(request) }
        } catch {
            throw AzureAuthError(code: "imds_unavailable", message: "cannot reach the \(service) identity endpoint: \(error.message)",
                                 isRetryable: true)
        }
    }

    private func parse(_ response: HTTPResponse, service: String) throws(AzureAuthError) -> AccessToken {
        guard response.status == 200 else {
            let object = JSONValue.object(parsing: response.body)
            let error = object?["error"]?.string
            let description = EntraErrorMapper.splitDescription(object?["error_description"]?.string ?? "").firstLine
            // IMDS: 404 (not ready), 410 (updating), 429 and 5xx are transient.
            let retryable = [404, 410, 429].contains(response.status) || response.status >= 500
            let detail = [error, description.isEmpty ? nil : description].compactMap { $0 }.joined(separator: ": ")
            throw AzureAuthError(code: retryable ? "imds_unavailable" : (error ?? "http_\(response.status)"),
                                 message: "the \(service) identity endpoint answered HTTP \(response.status)"
                                    + (detail.isEmpty ? "" : ": \(detail)"),
                                 hint: response.status == 400 ? "check that the machine has a managed identity (and the client id, if given)" : nil,
                                 isRetryable: retryable, httpStatus: response.status)
        }
        guard let token = TokenResponseParser.parse(response.body, now: Date()) else {
            throw AzureAuthError(code: "invalid_response", message: "the \(service) identity endpoint answered 200 without an access_token and expiry",
                                 isRetryable: true, httpStatus: 200)
        }
        return token
    }

    /// The key file's contents go only to a listener of root's or the Arc agent's: on a loopback endpoint, any user
    /// who bound the port before the agent would otherwise be answered with them.
    static func checkArcListener(_ identityEndpoint: String, tables: [String] = LocalListener.tables) throws(AzureAuthError) {
        guard let url = URL(string: identityEndpoint), let host = url.host, ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host) else {
            return  // not on this host: nothing local to check
        }
        let port = url.port ?? 80
        if let problem = LocalListener.problem(port: port, tables: tables) {
            throw AzureAuthError(code: "arc_listener_untrusted",
                                 message: "the Azure Arc identity endpoint is not the Arc agent's: \(problem); the key file was not sent",
                                 hint: "check who listens: ss -ltnp 'sport = :\(port)'", isRetryable: false)
        }
    }

    /// Azure Arc answers the first request with `WWW-Authenticate: Basic realm=<key file>`; the file must lie
    /// directly in `tokenDirectory`, end in `.key` and hold at most 4096 bytes (as the Azure SDKs check).
    static func readArcKey(wwwAuthenticate: String?, tokenDirectory: String) throws(AzureAuthError) -> String {
        func refuse(_ why: String) -> AzureAuthError {
            AzureAuthError(code: "arc_challenge", message: "the Azure Arc identity endpoint's challenge is unusable: \(why)", isRetryable: false)
        }
        guard let header = wwwAuthenticate, let equals = header.firstIndex(of: "="),
              header[..<equals].trimmingWhitespace().lowercased() == "basic realm" else {
            throw refuse("no 'WWW-Authenticate: Basic realm=<file>' header")
        }
        var path = String(header[header.index(after: equals)...]).trimmingWhitespace()
        if path.hasPrefix("\""), path.hasSuffix("\""), path.count >= 2 { path = String(path.dropFirst().dropLast()) }
        var directory = tokenDirectory
        while directory.hasSuffix("/") && directory.count > 1 { directory.removeLast() }
        let name = path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : ""
        guard !name.isEmpty, !name.contains("/"), name.hasSuffix(".key"), name != ".key" else {
            throw refuse("key file \(path) is not a .key file directly in \(directory)")
        }
        let text: String?
        do {
            // The Arc agent (user himds) owns the file; ownership is its business, the location is ours to check.
            text = try SecureFileReader.readIfPresent(path: path, maximumBytes: 4096, access: .anyOwner)
        } catch where error.permissionDenied {
            // HIMDS (user himds) makes its key files readable by root and group himds only; aiosd has no
            // CAP_DAC_OVERRIDE, so it reads them as a member of himds (the package's unit drop-in, written when
            // the group exists: postinst, or dpkg-reconfigure after the Arc agent was installed).
            throw AzureAuthError(code: "arc_key_unreadable",
                                 message: "aiosd may not read the Azure Arc agent's key file \(path): it is readable by group himds only and aiosd is not in that group",
                                 hint: "sudo dpkg-reconfigure aios-agent (adds aiosd to group himds now that the Arc agent is installed, and restarts it)",
                                 isRetryable: false)
        } catch {
            throw refuse("key file \(path) \(error.description)")
        }
        guard var key = text else { throw refuse("key file \(path) does not exist") }
        while let last = key.last, last.isNewline { key.removeLast() }
        guard !key.isEmpty, !key.contains(where: { $0.isNewline }) else { throw refuse("key file \(path) is empty or has several lines") }
        return key
    }
}
