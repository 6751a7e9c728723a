import AIOSHTTP
import FoundationEssentials
import Logging
import Synchronization

/// Reads secrets from one Key Vault over its REST data plane (pinned `api-version`). Thread-safe: call it from
/// several threads at once; each request checks out a pooled connection and a token from the vault's shared
/// request budget. Handles the 401 challenge, paging, and retries of 429/5xx/transport errors. Blocking.
public final class KeyVaultClient: Sendable {
    public static let apiVersion = "2025-07-01"

    public let vaultName: String
    /// The vault's base URL, `https://<vault>.<dnsSuffix>[:port]`.
    public var vaultURL: String { endpoint.baseURL }

    private let endpoint: KeyVaultEndpoint
    private let credential: any TokenCredential
    private let caBundlePEM: [UInt8]?
    private let budget: KeyVaultRequestBudget
    private let retry: KeyVaultRetryPolicy
    private let transport: HTTPTransport
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var challenge: KeyVaultChallenge?
        var requestCount = 0
    }

    static let maximumPages = 1000
    /// A secret is at most 25 KB, a page of versions a few KB: anything near 1 MiB is not Key Vault.
    static let maximumResponseBytes = 1 << 20

    /// - Parameters:
    ///   - credential: wrap it in a `TokenCache`; the client asks for a token on every request.
    ///   - caBundlePEM: trust anchors for the vault, when not the system's.
    ///   - budget: nil shares the process-wide budget of this vault's host (Key Vault's 4,000 requests per 10 s).
    ///   - maximumConnections: idle connections kept for reuse.
    public convenience init(vaultName: String, dnsSuffix: String = "vault.azure.net", port: Int = 443,
                            credential: any TokenCredential, caBundlePEM: [UInt8]? = nil, budget: KeyVaultRequestBudget? = nil,
                            retry: KeyVaultRetryPolicy = KeyVaultRetryPolicy(), maximumConnections: Int = 8,
                            logger: Logger = Logger(label: "aios.keyvault")) throws(KeyVaultError) {
        try self.init(vaultName: vaultName, dnsSuffix: dnsSuffix, port: port, credential: credential, caBundlePEM: caBundlePEM,
                      budget: budget, retry: retry, transport: HTTPConnectionPool(capacity: maximumConnections).transport, logger: logger)
    }

    init(vaultName: String, dnsSuffix: String, port: Int, credential: any TokenCredential, caBundlePEM: [UInt8]?,
         budget: KeyVaultRequestBudget?, retry: KeyVaultRetryPolicy, transport: HTTPTransport, logger: Logger) throws(KeyVaultError) {
        endpoint = try KeyVaultEndpoint(vaultName: vaultName, dnsSuffix: dnsSuffix, port: port)
        self.vaultName = endpoint.vaultName
        self.credential = credential
        self.caBundlePEM = caBundlePEM
        self.budget = budget ?? KeyVaultRequestBudget.shared(host: endpoint.authority)
        self.retry = retry
        self.transport = transport
        self.logger = logger
    }

    /// Every HTTP request sent so far, including challenge requests and retries.
    public var requestCount: Int { state.withLock { $0.requestCount } }

    /// All secrets of the vault (metadata only, no values), following every page.
    public func listSecrets() throws(KeyVaultError) -> [KeyVaultSecretItem] {
        let operation = "list secrets of vault \(vaultName)"
        var items: [KeyVaultSecretItem] = []
        try forEachPage(firstURL: "\(endpoint.baseURL)/secrets?api-version=\(Self.apiVersion)", operation: operation) { item throws(KeyVaultError) in
            guard let path = KeyVaultWire.secretPath(of: item.id), path.count == 1 else {
                throw KeyVaultError(kind: .badResponse, message: "an item has no secret id", operation: operation)
            }
            items.append(KeyVaultSecretItem(name: path[0], enabled: item.attributes?.enabled ?? true, updated: item.attributes?.updated,
                                            contentType: item.contentType, managed: item.managed ?? false, tags: item.tags ?? [:]))
        }
        return items
    }

    /// All versions of secret `name` (metadata only).
    public func listVersions(name: String) throws(KeyVaultError) -> [KeyVaultSecretVersionItem] {
        let operation = "list versions of secret \(name) in vault \(vaultName)"
        try Self.validate(name: name, operation: operation)
        var items: [KeyVaultSecretVersionItem] = []
        try forEachPage(firstURL: "\(endpoint.baseURL)/secrets/\(name)/versions?api-version=\(Self.apiVersion)", operation: operation) {
            item throws(KeyVaultError) in
            guard let path = KeyVaultWire.secretPath(of: item.id), path.count == 2 else {
                throw KeyVaultError(kind: .badResponse, message: "an item has no versioned secret id", operation: operation)
            }
            items.append(KeyVaultSecretVersionItem(version: path[1], enabled: item.attributes?.enabled ?? true,
                                                   created: item.attributes?.created, updated: item.attributes?.updated))
        }
        return items
    }

    /// Secret `name` with its value: the latest version, or `version`.
    public func getSecret(name: String, version: String? = nil) throws(KeyVaultError) -> KeyVaultSecret {
        let operation = "get secret \(name)\(version.map { " version \($0)" } ?? "") from vault \(vaultName)"
        try Self.validate(name: name, operation: operation)
        if let version {
            guard !version.isEmpty, version.count <= 64, version.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw KeyVaultError(kind: .invalidRequest, message: "'\(version)' is not a secret version", operation: operation)
            }
        }
        // Latest: the trailing-slash form the SDKs send.
        let url = "\(endpoint.baseURL)/secrets/\(name)/\(version ?? "")?api-version=\(Self.apiVersion)"
        let response = try send(url, operation: operation)
        guard let bundle = KeyVaultWire.Bundle(json: response.body),
              let value = bundle.value, let path = KeyVaultWire.secretPath(of: bundle.id), path.count == 2 else {
            throw KeyVaultError(kind: .badResponse, message: "the response is not a secret bundle with id and value", httpStatus: 200,
                                operation: operation)
        }
        return KeyVaultSecret(name: path[0], value: value, version: path[1], contentType: bundle.contentType, kid: bundle.kid,
                              managed: bundle.managed ?? false, enabled: bundle.attributes?.enabled ?? true,
                              updated: bundle.attributes?.updated, tags: bundle.tags ?? [:],
                              expires: bundle.attributes?.exp, notBefore: bundle.attributes?.nbf)
    }

    // MARK: - Paging

    /// Follows `nextLink` verbatim until it is null, absent or empty; pages may be short or empty. Refuses a
    /// nextLink off this vault (the token would go with it) and paging that does not end.
    private func forEachPage(firstURL: String, operation: String,
                             _ body: (KeyVaultWire.Item) throws(KeyVaultError) -> Void) throws(KeyVaultError) {
        var url = firstURL
        var seen: Set<String> = []
        var pages = 0
        while true {
            pages += 1
            let response = try send(url, operation: operation)
            guard let page = KeyVaultWire.ListResult(json: response.body) else {
                throw KeyVaultError(kind: .badResponse, message: "page \(pages) is not a secret list", httpStatus: 200, operation: operation)
            }
            for item in page.value ?? [] { try body(item) }
            guard let next = page.nextLink, !next.isEmpty else { return }
            guard endpoint.owns(next) else {
                throw KeyVaultError(kind: .badResponse, message: "nextLink points outside \(endpoint.baseURL); refusing to follow it",
                                    httpStatus: 200, operation: operation)
            }
            guard seen.insert(next).inserted, pages < Self.maximumPages else {
                throw KeyVaultError(kind: .badResponse,
                                    message: "paging does not end (a repeated nextLink or more than \(Self.maximumPages) pages)",
                                    httpStatus: 200, operation: operation)
            }
            url = next
        }
    }

    // MARK: - One request: challenge, token, retries

    /// GETs `url` and returns the 200 response, or throws what went wrong.
    private func send(_ url: String, operation: String) throws(KeyVaultError) -> HTTPResponse {
        var failedAttempts = 0
        var refreshedToken = false
        var challengesAnswered = 0
        while true {
            let challenge = state.withLock { $0.challenge }
            var headers = [("Accept", "application/json")]
            if let challenge {
                let token: AccessToken
                do {
                    token = try credential.token(resource: challenge.resource, tenant: challenge.tenant)
                } catch {
                    throw KeyVaultError(kind: .authentication(error), message: error.message, operation: operation)
                }
                headers.append(("Authorization", "Bearer \(token.value)"))
            }
            let request = HTTPRequest(method: .get, url: url, headers: headers, timeout: .seconds(30),
                                      tls: caBundlePEM.map { TLSCredentials(caBundlePEM: $0) }, usesOutboundProxy: true,
                                      maximumResponseBytes: Self.maximumResponseBytes)
            budget.acquire()
            state.withLock { $0.requestCount += 1 }
            let response: HTTPResponse
            do {
                defer { budget.release() }
                response = try MetricsRegistry.shared.measured(service: "keyvault") { () throws(HTTPClientError) in try transport.send(request) }
            } catch {
                failedAttempts += 1
                guard retry.retries(afterFailedAttempts: failedAttempts, status: nil) else {
                    throw KeyVaultError(kind: .unreachable, message: "cannot reach \(endpoint.baseURL): \(error.message)", operation: operation)
                }
                pause(failedAttempts: failedAttempts, response: nil, reason: "transport error: \(error.message)", operation: operation)
                continue
            }
            switch response.status {
            case 200:
                return response
            case 401:
                // A challenge the first time (no token sent yet), or a refused token: answer it, once for a token.
                guard let header = response.header("WWW-Authenticate"), let offered = KeyVaultChallenge.parse(header) else {
                    throw error(response, kind: .unauthorized, operation: operation)
                }
                guard KeyVaultChallenge.resourceMatches(offered.resource, vaultAuthority: endpoint.authority) else {
                    throw KeyVaultError(kind: .invalidRequest, code: "ChallengeResourceMismatch",
                                        message: "the challenge resource '\(offered.resource)' does not match the vault's domain "
                                            + "\(endpoint.authority); no token is sent", httpStatus: 401, operation: operation)
                }
                challengesAnswered += 1
                if challenge != nil {
                    guard !refreshedToken else { throw error(response, kind: .unauthorized, operation: operation) }
                    refreshedToken = true
                    credential.invalidate(resource: challenge!.resource, tenant: challenge!.tenant)
                    credential.invalidate(resource: offered.resource, tenant: offered.tenant)
                } else if challengesAnswered > 2 {
                    throw error(response, kind: .unauthorized, operation: operation)
                }
                state.withLock { $0.challenge = offered }
            case 429, 500...599:
                failedAttempts += 1
                guard retry.retries(afterFailedAttempts: failedAttempts, status: response.status) else {
                    throw error(response, kind: response.status == 429 ? .throttled : .server, operation: operation)
                }
                pause(failedAttempts: failedAttempts, response: response, reason: "HTTP \(response.status)", operation: operation)
            default:
                throw error(response, kind: nil, operation: operation)
            }
        }
    }

    private func pause(failedAttempts: Int, response: HTTPResponse?, reason: String, operation: String) {
        let delay = retry.delay(afterFailedAttempts: failedAttempts, response: response)
        // Someone else is using the vault's allowance: none of this process's requests go before the backoff ends.
        if response?.status == 429 { budget.holdOff(delay) }
        logger.debug("Key Vault request will be retried", metadata: [
            "operation": "\(operation)", "reason": "\(reason)", "attempt": "\(failedAttempts)", "delay": "\(delay)",
        ])
        retry.sleep(delay)
    }

    /// Maps an error response; `kind` nil means decide from status and code.
    private func error(_ response: HTTPResponse, kind: KeyVaultError.Kind?, operation: String) -> KeyVaultError {
        let detail = (try? JSONDecoder().decode(KeyVaultWire.ErrorResponse.self, from: Data(response.body)))?.error
        let code = detail?.innermostCode
        let firstLine = (detail?.message ?? "").split(omittingEmptySubsequences: true) { $0.isNewline }.first.map(String.init)
        let resolved: KeyVaultError.Kind = kind ?? {
            switch response.status {
            // Only Key Vault's own "no such secret" is absence; a 404 from anything else (a proxy, a wrong host) is not.
            case 404 where detail?.code == "SecretNotFound" || code == "SecretNotFound": return .notFound
            case 403 where code == "SecretDisabled": return .disabled
            case 403: return .forbidden
            case 401: return .unauthorized
            default: return .badResponse
            }
        }()
        return KeyVaultError(kind: resolved, code: code, message: firstLine ?? "HTTP \(response.status) without an error body",
                             httpStatus: response.status, operation: operation)
    }

    private static func validate(name: String, operation: String) throws(KeyVaultError) {
        guard (1...127).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw KeyVaultError(kind: .invalidRequest, message: "'\(name)' is not a secret name (1-127 of 0-9 a-z A-Z -)", operation: operation)
        }
    }
}
