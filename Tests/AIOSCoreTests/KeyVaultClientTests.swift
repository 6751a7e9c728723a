@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

@Suite struct KeyVaultClientTests {
    static let base = "https://demo-kv.vault.azure.net"
    static let challenge = #"Bearer authorization="https://login.microsoftonline.com/tenant-kv", resource="https://vault.azure.net""#
    static let unauthorized = json(401, #"{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}"#,
                                   headers: [("WWW-Authenticate", challenge)])

    /// A client over `fake` whose retries record their delays instead of sleeping.
    func client(_ fake: FakeHTTP, credential: any TokenCredential = CountingCredential(), sleeps: SleepRecorder = SleepRecorder())
        throws(KeyVaultError) -> KeyVaultClient {
        try KeyVaultClient(vaultName: "demo-kv", dnsSuffix: "vault.azure.net", port: 443, credential: credential, caBundlePEM: nil,
                           budget: KeyVaultRequestBudget(limit: 1_000_000, clock: VirtualClock().budgetClock),
                           retry: KeyVaultRetryPolicy(sleep: { sleeps.record($0) }, random: { 0.5 }),
                           transport: fake.transport, logger: .init(label: "test"))
    }

    @Test func readsExpiryAndNotBeforeOfAVersion() throws {
        let fake = FakeHTTP { request, _ in
            guard request.header("Authorization") != nil else { return Self.unauthorized }
            return json(200, #"{"value":"v","id":"\#(Self.base)/secrets/db/0a1b2c3d4e5f60718293a4b5c6d7e8f9","attributes":{"enabled":true,"nbf":1767225600,"exp":1798761600.5,"updated":1767225601}}"#)
        }
        let secret = try client(fake).getSecret(name: "db")
        #expect(secret.expires == 1798761600 && secret.notBefore == 1767225600)
    }

    /// Ids cut by hand give what URLComponents gives; ids the hand cut does not take still parse as before.
    @Test func aSecretIdIsCutByHandAsURLComponentsWouldCutIt() {
        for id in ["\(Self.base)/secrets/db/0a1b2c3d4e5f60718293a4b5c6d7e8f9", "\(Self.base)/secrets/db", "https://kv.vault.azure.cn/secrets/a-B-9"] {
            #expect(KeyVaultWire.plainSecretPath(of: id) != nil, "\(id)")
            #expect(KeyVaultWire.plainSecretPath(of: id) == KeyVaultWire.parsedSecretPath(of: id), "\(id)")
        }
        let others = ["\(Self.base)/secrets/db/", "\(Self.base):443/secrets/db/v1", "\(Self.base)/secrets/d%62/v1", "\(Self.base)/secrets//db",
                      "\(Self.base)/secrets/db?x=1", "http://kv/secrets/db", "\(Self.base)/keys/db/v1", "\(Self.base)/secrets/db/v1/x"]
        for id in others {
            #expect(KeyVaultWire.plainSecretPath(of: id) == nil || KeyVaultWire.plainSecretPath(of: id) == KeyVaultWire.parsedSecretPath(of: id), "\(id)")
            #expect(KeyVaultWire.secretPath(of: id) == KeyVaultWire.parsedSecretPath(of: id), "\(id)")
        }
        #expect(KeyVaultWire.secretPath(of: "\(Self.base)/secrets/db/") == ["db"])
        #expect(KeyVaultWire.secretPath(of: "\(Self.base)/secrets/d%62/v1") == ["db", "v1"])
        // Random ids over the characters that matter: the hand cut never answers differently.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab9-./:?#%% _secrets".utf8)
        for _ in 0..<3000 {
            let tail = String(decoding: (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self)
            for id in ["https://kv.example" + tail, "https://kv.example/secrets/" + tail] {
                guard let plain = KeyVaultWire.plainSecretPath(of: id) else { continue }
                #expect(plain == KeyVaultWire.parsedSecretPath(of: id), "\(id)")
            }
        }
    }

    // MARK: challenge

    @Test func parsesChallengeVariants() {
        #expect(KeyVaultChallenge.parse(Self.challenge) == KeyVaultChallenge(tenant: "tenant-kv", resource: "https://vault.azure.net"))
        #expect(KeyVaultChallenge.parse(#"Bearer authorization_uri="https://login.windows.net/t2/", scope="https://vault.azure.net/.default""#)
            == KeyVaultChallenge(tenant: "t2", resource: "https://vault.azure.net"))
        #expect(KeyVaultChallenge.parse(#"Bearer authorization="https://login.microsoftonline.com/t3", authorization_uri="https://login.microsoftonline.com/t3", resource="https://vault.azure.net", scope="https://vault.azure.net:8443/.default""#)
            == KeyVaultChallenge(tenant: "t3", resource: "https://vault.azure.net:8443"))
        #expect(KeyVaultChallenge.parse("bearer authorization=https://login.microsoftonline.com/t4, resource=https://vault.azure.net")
            == KeyVaultChallenge(tenant: "t4", resource: "https://vault.azure.net"))
        #expect(KeyVaultChallenge.parse(#"Basic realm="x""#) == nil)
        #expect(KeyVaultChallenge.parse(#"Bearer resource="https://vault.azure.net""#) == nil)
        #expect(KeyVaultChallenge.parse(#"Bearer authorization="https://login.microsoftonline.com/t""#) == nil)
    }

    @Test func verifiesTheChallengeResourceLikePython() {
        #expect(KeyVaultChallenge.resourceMatches("https://vault.azure.net", vaultAuthority: "demo-kv.vault.azure.net"))
        #expect(KeyVaultChallenge.resourceMatches("https://vault.azure.net:443", vaultAuthority: "demo-kv.vault.azure.net"))
        #expect(KeyVaultChallenge.resourceMatches("https://vault.azure.net:8443", vaultAuthority: "demo-kv.vault.azure.net:8443"))
        #expect(!KeyVaultChallenge.resourceMatches("https://vault.azure.net", vaultAuthority: "demo-kv.vault.azure.net:8443"))
        #expect(!KeyVaultChallenge.resourceMatches("https://evil.example", vaultAuthority: "demo-kv.vault.azure.net"))
        #expect(!KeyVaultChallenge.resourceMatches("https://kv.vault.azure.net", vaultAuthority: "demo-kv.vault.azure.net"))
        #expect(!KeyVaultChallenge.resourceMatches("https://demo-kv.vault.azure.net", vaultAuthority: "demo-kv.vault.azure.net"))
    }

    @Test func answersTheChallengeThenSendsTheBearerToken() throws {
        let fake = FakeHTTP { request, _ in
            guard request.header("Authorization") != nil else { return Self.unauthorized }
            return json(200, #"{"value":"s3cr3t","id":"\#(Self.base)/secrets/db-password/0a1b2c3d4e5f60718293a4b5c6d7e8f9","contentType":"text/plain","attributes":{"enabled":true,"created":1767225600,"updated":1767225601},"tags":{"owner":"a"}}"#)
        }
        let credential = CountingCredential()
        let vault = try client(fake, credential: credential)
        let secret = try vault.getSecret(name: "db-password")
        #expect(secret.value == "s3cr3t")
        #expect(secret.version == "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        #expect(secret.name == "db-password" && secret.contentType == "text/plain" && secret.updated == 1767225601 && secret.tags == ["owner": "a"])
        #expect(!secret.managed && secret.kid == nil && secret.enabled)
        #expect(!"\(secret)".contains("s3cr3t"))
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        #expect(fake.requests.map(\.url) == Array(repeating: "\(Self.base)/secrets/db-password/?api-version=2025-07-01", count: 2))
        #expect(fake.requests[1].header("Authorization") == "Bearer token-1")
        // The challenge is cached: the next request goes with a token straight away.
        _ = try vault.getSecret(name: "db-password", version: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        #expect(fake.requests.count == 3)
        #expect(fake.requests[2].url == "\(Self.base)/secrets/db-password/0a1b2c3d4e5f60718293a4b5c6d7e8f9?api-version=2025-07-01")
        #expect(vault.requestCount == 3)
    }

    @Test func refusesAChallengeForAnotherResource() throws {
        let fake = FakeHTTP { _, _ in
            json(401, "{}", headers: [("WWW-Authenticate", #"Bearer authorization="https://login.microsoftonline.com/t", resource="https://evil.example""#)])
        }
        let credential = CountingCredential()
        #expect(throws: KeyVaultError.self) { _ = try client(fake, credential: credential).getSecret(name: "a") }
        #expect(credential.calls == 0)
        #expect(fake.requests.count == 1)
    }

    @Test func aRefusedTokenIsRefreshedOnceThenReported() throws {
        let fake = FakeHTTP { _, _ in Self.unauthorized }
        let credential = CountingCredential()
        do {
            _ = try client(fake, credential: credential).getSecret(name: "a")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .unauthorized)
            #expect(!error.meansAbsentInVault)
        }
        // challenge, token-1 refused, token-2 refused.
        #expect(fake.requests.count == 3)
        #expect(credential.invalidations >= 1)
        #expect(fake.requests.compactMap { $0.header("Authorization") } == ["Bearer token-1", "Bearer token-2"])
    }

    @Test func servesManyThreadsAtOnce() async throws {
        let fake = FakeHTTP { request, _ in
            guard request.header("Authorization") != nil else { return Self.unauthorized }
            let name = request.url.split(separator: "/")[3]
            return json(200, #"{"value":"v-\#(name)","id":"\#(Self.base)/secrets/\#(name)/0123"}"#)
        }
        let credential = TokenCache(wrapping: CountingCredential(delay: 0.05), clientId: "c")
        let vault = try client(fake, credential: credential)
        let names = (0..<64).map { "s\($0)" }
        let values = await withTaskGroup(of: String?.self) { group in
            for name in names {
                group.addTask { try? await runOnThread { try vault.getSecret(name: name).value } }
            }
            return await group.reduce(into: Set<String?>()) { $0.insert($1) }
        }
        #expect(values == Set(names.map { "v-\($0)" }))
        #expect(vault.requestCount == fake.requests.count)
        #expect(fake.requests.filter { $0.header("Authorization") != nil }.count == 64)
        #expect(Set(fake.requests.compactMap { $0.header("Authorization") }) == ["Bearer token-1"])
    }

    // MARK: errors and retries

    @Test func mapsKeyVaultErrors() throws {
        let cases: [(HTTPResponse, KeyVaultError.Kind, String?, Bool)] = [
            (json(404, #"{"error":{"code":"SecretNotFound","message":"A secret with (name/id) a was not found in this key vault."}}"#), .notFound, "SecretNotFound", true),
            (json(403, #"{"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}}"#), .disabled, "SecretDisabled", true),
            (json(403, #"{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource.\r\nCaller: appid=x\r\nAction: 'y'","innererror":{"code":"ForbiddenByRbac"}}}"#), .forbidden, "ForbiddenByRbac", false),
            (HTTPResponse(status: 404, body: Array("<html>not found</html>".utf8)), .badResponse, nil, false),
            (json(400, #"{"error":{"code":"BadParameter","message":"bad"}}"#), .badResponse, "BadParameter", false),
        ]
        for (response, kind, code, absent) in cases {
            let fake = FakeHTTP { request, _ in request.header("Authorization") == nil ? Self.unauthorized : response }
            do {
                _ = try client(fake).getSecret(name: "a")
                Issue.record("no error for \(response.status)")
            } catch {
                #expect(error.kind == kind)
                #expect(error.code == code)
                #expect(error.meansAbsentInVault == absent)
                #expect(!error.message.contains("\n") && !error.message.contains("Caller: appid"))
            }
        }
        let forbidden = KeyVaultError(kind: .forbidden, code: "ForbiddenByRbac", message: "m", httpStatus: 403, operation: "get secret a")
        #expect(forbidden.description.contains("Key Vault Secrets User"))
    }

    @Test func retriesThrottlingHonouringTheServerThenGivesUp() throws {
        let fake = FakeHTTP { request, index in
            if request.header("Authorization") == nil { return Self.unauthorized }
            return json(429, #"{"error":{"code":"Throttled","message":"Request was not processed because too many requests were received."}}"#,
                        headers: index == 1 ? [("Retry-After", "7")] : [])
        }
        let sleeps = SleepRecorder()
        do {
            _ = try client(fake, sleeps: sleeps).getSecret(name: "a")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .throttled)
            #expect(error.httpStatus == 429)
            #expect(!error.meansAbsentInVault)
        }
        // 1 challenge + 6 attempts; 5 waits: the server's 7 s, then Microsoft's backoff for the 2nd to 5th 429.
        #expect(fake.requests.count == 7)
        #expect(sleeps.delays == [.seconds(7), .seconds(2), .seconds(4), .seconds(8), .seconds(16)])
    }

    @Test func retriesTransportErrorsAndServerErrorsThenSucceeds() throws {
        let fake = FakeHTTP { request, index throws(HTTPClientError) in
            if request.header("Authorization") == nil { return Self.unauthorized }
            if index == 1 { throw HTTPClientError(kind: .couldNotConnect, message: "Couldn't connect to server") }
            if index == 2 { return json(503, "{}", headers: [("x-ms-retry-after-ms", "250")]) }
            return json(200, #"{"value":"v","id":"\#(Self.base)/secrets/a/0123"}"#)
        }
        let sleeps = SleepRecorder()
        let vault = try client(fake, sleeps: sleeps)
        #expect(try vault.getSecret(name: "a").version == "0123")
        #expect(sleeps.delays == [.milliseconds(250), .milliseconds(250)])
        #expect(vault.requestCount == 4)
    }

    @Test func unreachableAfterAllAttempts() throws {
        let fake = FakeHTTP { _, _ throws(HTTPClientError) in throw HTTPClientError(kind: .timedOut, message: "Timeout was reached") }
        do {
            _ = try client(fake).listSecrets()
            Issue.record("no error")
        } catch {
            #expect(error.kind == .unreachable)
            #expect(!error.meansAbsentInVault)
        }
        #expect(fake.requests.count == 4)
    }

    @Test func parsesRetryAfterForms() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        func delay(_ headers: [(name: String, value: String)]) -> Duration? {
            KeyVaultRetryPolicy.serverDelay(HTTPResponse(status: 429, body: [], headers: headers), now: now)
        }
        #expect(delay([("Retry-After", "3")]) == .seconds(3))
        #expect(delay([("retry-after", " 0 ")]) == .seconds(0))
        #expect(delay([("Retry-After", "Sun, 06 Nov 1994 08:49:47 GMT")]) == .seconds(10))
        #expect(delay([("Retry-After", "Sun, 06 Nov 1994 08:49:27 GMT")]) == .seconds(0))
        #expect(delay([("retry-after-ms", "1500")]) == .milliseconds(1500))
        #expect(delay([("x-ms-retry-after-ms", "20"), ("Retry-After", "9")]) == .milliseconds(20))
        #expect(delay([("Retry-After", "soon")]) == nil)
        #expect(delay([("Retry-After", "-4")]) == nil)
        #expect(delay([]) == nil)
        let policy = KeyVaultRetryPolicy(sleep: { _ in }, random: { 0.999999 })
        #expect(policy.delay(afterFailedAttempts: 1, response: nil) < .milliseconds(500))
        #expect(policy.delay(afterFailedAttempts: 8, response: nil) > .seconds(29))
        #expect(policy.delay(afterFailedAttempts: 20, response: nil) <= .seconds(30))
        #expect(policy.delay(afterFailedAttempts: 1, response: HTTPResponse(status: 429, body: [], headers: [("Retry-After", "86400")])) == .seconds(60))
    }

    // MARK: paging

    @Test func followsNextLinkThroughShortAndEmptyPages() throws {
        let pages = [
            #"{"value":[{"id":"\#(Self.base)/secrets/a","attributes":{"enabled":true,"updated":100}},{"id":"\#(Self.base)/secrets/b","contentType":"application/x-pkcs12","managed":true,"attributes":{"enabled":false,"updated":200}}],"nextLink":"https://demo-kv.vault.azure.net:443/secrets?api-version=2025-07-01&$skiptoken=p2"}"#,
            #"{"value":[],"nextLink":"https://demo-kv.vault.azure.net:443/secrets?api-version=2025-07-01&$skiptoken=p3"}"#,
            #"{"value":[{"id":"\#(Self.base)/secrets/c","tags":{"k":"v"}}],"nextLink":""}"#,
        ]
        let fake = FakeHTTP { request, index in
            if request.header("Authorization") == nil { return Self.unauthorized }
            return json(200, pages[index - 1])
        }
        let items = try client(fake).listSecrets()
        #expect(items.map(\.name) == ["a", "b", "c"])
        #expect(items[1] == KeyVaultSecretItem(name: "b", enabled: false, updated: 200, contentType: "application/x-pkcs12", managed: true, tags: [:]))
        #expect(items[2].tags == ["k": "v"] && items[2].enabled && items[2].updated == nil)
        #expect(fake.requests.map(\.url) == [
            "\(Self.base)/secrets?api-version=2025-07-01", "\(Self.base)/secrets?api-version=2025-07-01",
            "https://demo-kv.vault.azure.net:443/secrets?api-version=2025-07-01&$skiptoken=p2",
            "https://demo-kv.vault.azure.net:443/secrets?api-version=2025-07-01&$skiptoken=p3",
        ])
    }

    @Test func listsVersions() throws {
        let fake = FakeHTTP { request, _ in
            if request.header("Authorization") == nil { return Self.unauthorized }
            return json(200, #"{"value":[{"id":"\#(Self.base)/secrets/a/v1","attributes":{"enabled":true,"created":1,"updated":2}},{"id":"\#(Self.base)/secrets/a/v2","attributes":{"enabled":false,"created":3,"updated":4.0}}],"nextLink":null}"#)
        }
        let versions = try client(fake).listVersions(name: "a")
        #expect(versions == [KeyVaultSecretVersionItem(version: "v1", enabled: true, created: 1, updated: 2),
                             KeyVaultSecretVersionItem(version: "v2", enabled: false, created: 3, updated: 4)])
        #expect(fake.requests.last?.url == "\(Self.base)/secrets/a/versions?api-version=2025-07-01")
    }

    @Test func refusesAPagingLoop() throws {
        let fake = FakeHTTP { request, _ in
            if request.header("Authorization") == nil { return Self.unauthorized }
            return json(200, #"{"value":[],"nextLink":"\#(Self.base)/secrets?$skiptoken=same"}"#)
        }
        do {
            _ = try client(fake).listSecrets()
            Issue.record("no error")
        } catch {
            #expect(error.kind == .badResponse)
            #expect(error.message.contains("paging does not end"))
        }
        #expect(fake.requests.count == 3)  // challenge, first page, the link once; its repeat is not followed
    }

    @Test func refusesEndlessDistinctPages() throws {
        let fake = FakeHTTP { request, index in
            if request.header("Authorization") == nil { return Self.unauthorized }
            return json(200, #"{"value":[],"nextLink":"\#(Self.base)/secrets?$skiptoken=\#(index)"}"#)
        }
        #expect(throws: KeyVaultError.self) { _ = try client(fake).listSecrets() }
        #expect(fake.requests.count == KeyVaultClient.maximumPages + 1)
    }

    @Test func refusesANextLinkOffTheVault() throws {
        for link in ["https://evil.example/secrets?x", "http://demo-kv.vault.azure.net/secrets?x", "https://demo-kv.vault.azure.net:8443/secrets",
                     "https://other-kv.vault.azure.net/secrets", "https://user@demo-kv.vault.azure.net/secrets",
                     "https://demo-kv.vault.azure.net.evil.example/secrets"] {
            let fake = FakeHTTP { request, _ in
                if request.header("Authorization") == nil { return Self.unauthorized }
                return json(200, #"{"value":[],"nextLink":"\#(link)"}"#)
            }
            #expect(throws: KeyVaultError.self, "\(link)") { _ = try client(fake).listSecrets() }
            #expect(fake.requests.count == 2, "\(link)")
        }
        let endpoint = try KeyVaultEndpoint(vaultName: "Demo-KV", dnsSuffix: "vault.azure.net", port: 443)
        #expect(endpoint.owns("https://demo-kv.vault.azure.net:443/secrets?a=b"))
        #expect(endpoint.owns("https://DEMO-KV.vault.azure.net/secrets"))
    }

    @Test func badShapesAreBadResponsesWithoutTheBody() throws {
        for body in [#"{"value":"s3cr3t-in-body"}"#, "not json s3cr3t-in-body", #"{"value":{"x":1}}"#] {
            let fake = FakeHTTP { request, _ in request.header("Authorization") == nil ? Self.unauthorized : json(200, body) }
            do {
                _ = try client(fake).getSecret(name: "a")
                Issue.record("no error for \(body)")
            } catch {
                #expect(error.kind == .badResponse)
                #expect(!error.description.contains("s3cr3t-in-body"))
            }
        }
        #expect(throws: KeyVaultError.self) { _ = try client(FakeHTTP { _, _ in Self.unauthorized }).getSecret(name: "../keys/x") }
    }

    @Test func budgetsAreSharedPerVaultHost() {
        #expect(KeyVaultRequestBudget.shared(host: "x-kv.vault.azure.net") === KeyVaultRequestBudget.shared(host: "X-KV.vault.azure.net", limit: 1))
        #expect(KeyVaultRequestBudget.shared(host: "x-kv.vault.azure.net") !== KeyVaultRequestBudget.shared(host: "y-kv.vault.azure.net"))
    }
}

final class SleepRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _delays: [Duration] = []
    var delays: [Duration] { lock.withLock { _delays } }
    func record(_ delay: Duration) { lock.withLock { _delays.append(delay) } }
}
