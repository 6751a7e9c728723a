@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Glibc
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
        // The key goes only to a listener of root's (this test's, as CI runs it) or himds'.
        let listener = try LoopbackHTTPServer { _ in "" }
        defer { listener.stop() }
        let endpoint = "http://localhost:\(listener.port)/metadata/identity/oauth2/token"
        let credential = ManagedIdentityCredential(source: .arc(identityEndpoint: endpoint, tokenDirectory: directory.path),
                                                   transport: fake.transport)
        let token = try credential.token(resource: "https://vault.azure.net", tenant: "")
        #expect(token.value == "arc-token")
        #expect(fake.requests.count == 2)
        #expect(fake.requests[0].url == "\(endpoint)?api-version=2020-06-01&resource=https%3A%2F%2Fvault.azure.net")
        #expect(fake.requests[0].header("Authorization") == nil)
        #expect(fake.requests[1].header("Authorization") == "Basic arc-key-contents")
        #expect(fake.requests[1].header("Metadata") == "true")
    }

    @Test(.enabled(if: getuid() == 0, "needs root: binds the port as another user with setpriv"))
    func arcKeyIsNotSentToAListenerOfAnotherUser() throws {
        let directory = try TemporaryDirectory(prefix: "aios-arc")
        defer { directory.remove() }
        let keyPath = try directory.write("abc.key", "arc-key-contents\n", mode: 0o640)
        // User nobody binds a loopback port first, as an attacker would bind 40342 before the Arc agent.
        let squatter = Process()
        squatter.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        squatter.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/python3", "-c", """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); sys.stdin.read()
            """]
        let input = Pipe(), output = Pipe()
        squatter.standardInput = input
        squatter.standardOutput = output
        try squatter.run()
        defer { try? input.fileHandleForWriting.close(); squatter.waitUntilExit() }
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(LocalListener.owners(ofPort: port) == [65534])
        let fake = FakeHTTP { _, _ in json(401, "{}", headers: [("WWW-Authenticate", "Basic realm=\(keyPath)")]) }
        let credential = ManagedIdentityCredential(source: .arc(identityEndpoint: "http://localhost:\(port)/metadata/identity/oauth2/token",
                                                                tokenDirectory: directory.path), transport: fake.transport)
        do {
            _ = try credential.token(resource: "https://vault.azure.net", tenant: "")
            Issue.record("the key was sent to another user's listener")
        } catch {
            #expect(error.code == "arc_listener_untrusted")
            #expect(error.message.contains("belongs to uid 65534, not root or himds"), "\(error.message)")
        }
        #expect(fake.requests.count == 1, "only the unauthenticated challenge request went out")
        #expect(fake.requests.allSatisfy { $0.header("Authorization") == nil })
    }

    @Test func listenersAreReadFromTheKernelsSocketTable() {
        let table = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:9D96 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 123 1 0000000000000000 100 0 0 10 0
               1: 0100007F:9D96 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 124 1 0000000000000000 20 4 30 10 -1
               2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 125 1 0000000000000000 100 0 0 10 0
            """
        #expect(LocalListener.parse(table, port: 40342) == [998], "only the LISTEN socket (0A) on 0x9D96 = 40342")
        #expect(LocalListener.parse(table, port: 80) == [0])
        #expect(LocalListener.parse(table, port: 443).isEmpty)
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
