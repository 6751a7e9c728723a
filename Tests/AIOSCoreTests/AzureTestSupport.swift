@testable import AIOSCore
import AIOSHTTP
import Foundation

/// Answers requests from a script and records them; stands in for libcurl in the Azure client tests.
final class FakeHTTP: @unchecked Sendable {
    private let lock = NSLock()
    private var _requests: [HTTPRequest] = []
    private let handler: @Sendable (HTTPRequest, Int) throws(HTTPClientError) -> HTTPResponse

    /// `handler` gets the request and its 0-based index.
    init(_ handler: @escaping @Sendable (HTTPRequest, Int) throws(HTTPClientError) -> HTTPResponse) { self.handler = handler }

    var requests: [HTTPRequest] { lock.withLock { _requests } }

    var transport: HTTPTransport {
        HTTPTransport { request throws(HTTPClientError) in
            let index = self.lock.withLock { self._requests.append(request); return self._requests.count - 1 }
            return try self.handler(request, index)
        }
    }
}

func json(_ status: Int, _ text: String, headers: [(name: String, value: String)] = []) -> HTTPResponse {
    HTTPResponse(status: status, body: Array(text.utf8), headers: [("Content-Type", "application/json; charset=utf-8")] + headers)
}

func makeJWT(_ claims: String) -> String {
    func b64(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
    return "\(b64(#"{"alg":"RS256","kid":"k1"}"#)).\(b64(claims)).c2lnbmF0dXJlLXNlY3JldC1wYXJ0"
}

extension HTTPRequest {
    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    var bodyText: String { String(decoding: body ?? [], as: UTF8.self) }
}

/// A credential that counts calls and returns numbered tokens.
final class CountingCredential: TokenCredential, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls = 0
    private var _invalidations = 0
    let lifetime: TimeInterval
    let delay: TimeInterval
    let failure: AzureAuthError?
    let now: @Sendable () -> Date

    init(lifetime: TimeInterval = 3600, delay: TimeInterval = 0, failure: AzureAuthError? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
        self.lifetime = lifetime
        self.delay = delay
        self.failure = failure
    }

    var calls: Int { lock.withLock { _calls } }
    var invalidations: Int { lock.withLock { _invalidations } }

    func token(resource: String, tenant: String) throws(AzureAuthError) -> AccessToken {
        let n = lock.withLock { _calls += 1; return _calls }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let failure { throw failure }
        return AccessToken(value: "token-\(n)", expiresOn: now().addingTimeInterval(lifetime))
    }

    func invalidate(resource: String, tenant: String) { lock.withLock { _invalidations += 1 } }
}
