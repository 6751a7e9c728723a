@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Testing

@Suite struct ManagedIdentityAndTokenCacheTests {
    @Test func imdsRequestAndStringValuedResponse() throws {
        let fake = FakeHTTP { _, _ in
            json(200, #"{"access_token":"mi-token","client_id":"c","expires_in":"86090","expires_on":"1767312000","resource":"https://vault.azure.net","token_type":"Bearer"}"#)
        }
        let credential = ManagedIdentityCredential(source: .imds(clientId: "uami-1", endpoint: "http://127.0.0.1:9/token"), transport: fake.transport)
        let token = try credential.token(resource: "https://vault.azure.net/.default", tenant: "ignored")
        #expect(token.value == "mi-token")
        #expect(token.expiresOn == Date(timeIntervalSince1970: 1767312000))
        let request = try #require(fake.requests.first)
        #expect(request.url == "http://127.0.0.1:9/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=uami-1")
        #expect(request.header("Metadata") == "true")
        #expect(request.bypassesProxy)
    }

    @Test func imdsErrorsSayWhetherToRetry() {
        let gone = ManagedIdentityCredential(source: .imds(), transport: FakeHTTP { _, _ in json(410, "{}") }.transport)
        #expect(throws: AzureAuthError(code: "imds_unavailable", message: "the IMDS identity endpoint answered HTTP 410", isRetryable: true,
                                       httpStatus: 410)) {
            _ = try gone.token(resource: "https://vault.azure.net", tenant: "")
        }
        let noIdentity = ManagedIdentityCredential(source: .imds(), transport: FakeHTTP { _, _ in
            json(400, #"{"error":"invalid_request","error_description":"Identity not found"}"#)
        }.transport)
        do {
            _ = try noIdentity.token(resource: "https://vault.azure.net", tenant: "")
        } catch {
            #expect(error.code == "invalid_request")
            #expect(!error.isRetryable)
            #expect(error.message.contains("Identity not found"))
        }
    }

    @Test func arcAnswersTheKeyFileChallenge() throws {
        let directory = try TemporaryDirectory(prefix: "aios-arc")
        defer { directory.remove() }
        let keyPath = try directory.write("abc.key", "arc-key-contents\n", mode: 0o640)
        let fake = FakeHTTP { request, index in
            if index == 0 { return json(401, "{}", headers: [("WWW-Authenticate", "Basic realm=\(keyPath)")]) }
            return json(200, #"{"access_token":"arc-token","expires_on":"1767312000"}"#)
        }
        let credential = ManagedIdentityCredential(source: .arc(identityEndpoint: "http://localhost:40342/metadata/identity/oauth2/token",
                                                                tokenDirectory: directory.path), transport: fake.transport)
        let token = try credential.token(resource: "https://vault.azure.net", tenant: "")
        #expect(token.value == "arc-token")
        #expect(fake.requests.count == 2)
        #expect(fake.requests[0].url == "http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net")
        #expect(fake.requests[0].header("Authorization") == nil)
        #expect(fake.requests[1].header("Authorization") == "Basic arc-key-contents")
        #expect(fake.requests[1].header("Metadata") == "true")
    }

    @Test func arcKeyOutsideTheTokenDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "aios-arc")
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("tokens"), withIntermediateDirectories: false)
        let tokens = directory.file("tokens")
        try directory.write("outside.key", "k")
        try directory.write("tokens/not-a-key.txt", "k")
        try directory.write("tokens/big.key", String(repeating: "k", count: 5000))
        for realm in ["\(directory.path)/outside.key", "\(tokens)/../outside.key", "\(tokens)/not-a-key.txt", "\(tokens)/big.key",
                      "\(tokens)/missing.key", "\(tokens)/sub/x.key"] {
            #expect(throws: AzureAuthError.self, "\(realm)") {
                _ = try ManagedIdentityCredential.readArcKey(wwwAuthenticate: "Basic realm=\(realm)", tokenDirectory: tokens)
            }
        }
        #expect(throws: AzureAuthError.self) { _ = try ManagedIdentityCredential.readArcKey(wwwAuthenticate: nil, tokenDirectory: tokens) }
        try directory.write("tokens/good.key", "k1")
        #expect(try ManagedIdentityCredential.readArcKey(wwwAuthenticate: "Basic realm=\(tokens)/good.key", tokenDirectory: tokens) == "k1")
    }

    @Test func freshnessRules() {
        let obtained = Date(timeIntervalSince1970: 1_000_000)
        let day = AccessToken(value: "t", expiresOn: obtained.addingTimeInterval(86400))
        #expect(TokenCache.isFresh(day, obtainedAt: obtained, now: obtained.addingTimeInterval(86400 - 301)))
        #expect(!TokenCache.isFresh(day, obtainedAt: obtained, now: obtained.addingTimeInterval(86400 - 299)))
        // Shorter than 10 minutes: only the first half of its life.
        let short = AccessToken(value: "t", expiresOn: obtained.addingTimeInterval(400))
        #expect(TokenCache.isFresh(short, obtainedAt: obtained, now: obtained.addingTimeInterval(199)))
        #expect(!TokenCache.isFresh(short, obtainedAt: obtained, now: obtained.addingTimeInterval(201)))
        let expired = AccessToken(value: "t", expiresOn: obtained.addingTimeInterval(-1))
        #expect(!TokenCache.isFresh(expired, obtainedAt: obtained, now: obtained))
    }

    @Test func cachesPerTenantAndResourceUntilRefreshIsDue() throws {
        let clock = TestClock()
        let inner = CountingCredential(lifetime: 3600, now: { clock.now })
        let cache = TokenCache(wrapping: inner, clientId: "c", now: { clock.now })
        #expect(try cache.token(resource: "https://vault.azure.net", tenant: "t1").value == "token-1")
        #expect(try cache.token(resource: "https://vault.azure.net", tenant: "T1").value == "token-1")
        #expect(try cache.token(resource: "https://storage.azure.com", tenant: "t1").value == "token-2")
        #expect(try cache.token(resource: "https://vault.azure.net", tenant: "t2").value == "token-3")
        clock.advance(3600 - 299)
        #expect(try cache.token(resource: "https://vault.azure.net", tenant: "t1").value == "token-4")
        cache.invalidate(resource: "https://vault.azure.net", tenant: "t1")
        #expect(try cache.token(resource: "https://vault.azure.net", tenant: "t1").value == "token-5")
        #expect(inner.calls == 5)
    }

    @Test func concurrentCallersShareOneFetch() async throws {
        let inner = CountingCredential(lifetime: 3600, delay: 0.2)
        let cache = TokenCache(wrapping: inner, clientId: "c")
        let values = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<8 {
                group.addTask { try? await runOnThread { try cache.token(resource: "r", tenant: "t").value } }
            }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(inner.calls == 1)
        #expect(Set(values) == ["token-1"])
    }

    @Test func concurrentCallersShareOneFailure() async throws {
        let failure = AzureAuthError(code: "AADSTS70021", message: "m", isRetryable: false)
        let inner = CountingCredential(delay: 0.2, failure: failure)
        let cache = TokenCache(wrapping: inner, clientId: "c")
        let codes = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    do { _ = try await runOnThread { try cache.token(resource: "r", tenant: "t") }; return nil } catch { return (error as? AzureAuthError)?.code }
                }
            }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(Set(codes) == ["AADSTS70021"])
        #expect(inner.calls == 1)
    }
}

final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_767_225_600)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current.addTimeInterval(seconds) } }
}

/// Runs blocking `work` on a thread of its own (the credentials block; the cooperative pool must not).
func runOnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
