@testable import AIOSCore
import AIOSHTTP
import AIOSTestSupport
import Foundation
import Testing

@Suite struct EntraCredentialTests {
    let issuer = "https://oidc.example.com/cluster-1/"
    let subject = "system:serviceaccount:aios-system:kv-sync"
    var assertion: String {
        makeJWT(#"{"iss":"\#(issuer)","sub":"\#(subject)","aud":["api://AzureADTokenExchange"],"exp":1999999999}"#)
    }

    @Test func decodesJWTPayloadWithoutVerifying() {
        let claims = JWTClaims.decodeUnverified(assertion)
        #expect(claims?.issuer == issuer)
        #expect(claims?.subject == subject)
        #expect(claims?.audiences == ["api://AzureADTokenExchange"])
        #expect(JWTClaims.decodeUnverified(makeJWT(#"{"aud":"single"}"#))?.audiences == ["single"])
        #expect(JWTClaims.decodeUnverified("not-a-jwt") == nil)
        #expect(JWTClaims.decodeUnverified("a.!!!.c") == nil)
    }

    @Test func postsTheFederatedCredentialForm() throws {
        let fake = FakeHTTP { _, _ in json(200, #"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"at-1"}"#) }
        let jwt = assertion
        let credential = try ClientAssertionCredential(tenantId: "tenant-1", clientId: "client-1", authorityHost: "https://login.example.com/",
                                                       caBundlePEM: nil, transport: fake.transport, assertion: { jwt })
        let before = Date()
        let token = try credential.token(resource: "https://vault.azure.net", tenant: "tenant-1")
        #expect(token.value == "at-1")
        #expect(token.expiresOn.timeIntervalSince(before) > 3590 && token.expiresOn.timeIntervalSince(before) < 3610)
        let request = try #require(fake.requests.first)
        #expect(request.method == .post)
        #expect(request.url == "https://login.example.com/tenant-1/oauth2/v2.0/token")
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        let form = Dictionary(uniqueKeysWithValues: request.bodyText.split(separator: "&").map {
            let pair = $0.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
            return (pair[0], pair[1])
        })
        #expect(form == ["grant_type": "client_credentials", "client_id": "client-1", "scope": "https://vault.azure.net/.default",
                         "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": jwt])
        #expect(!String(describing: token).contains("at-1"))
    }

    @Test func refusesAnHTTPAuthorityAndAForeignTenant() throws {
        #expect(throws: AzureAuthError.self) {
            _ = try ClientAssertionCredential(tenantId: "t", clientId: "c", authorityHost: "http://login.example.com", assertion: { "x" })
        }
        let credential = try ClientAssertionCredential(tenantId: "tenant-1", clientId: "c", assertion: { "x" })
        do {
            _ = try credential.token(resource: "https://vault.azure.net", tenant: "tenant-2")
            Issue.record("a token for another tenant was requested")
        } catch {
            #expect(error.code == "tenant_mismatch")
            #expect(!error.isRetryable)
        }
    }

    @Test func explainsANonMatchingFederatedCredential() throws {
        let body = #"""
            {"error":"invalid_request","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'x'.\r\nTrace ID: 0a0a-trace\r\nCorrelation ID: 1b1b\r\nTimestamp: 2026-01-20 22:54:42Z","error_codes":[70021],"trace_id":"0a0a-trace","correlation_id":"1b1b"}
            """#
        let fake = FakeHTTP { _, _ in json(400, body) }
        let jwt = assertion
        let credential = try ClientAssertionCredential(tenantId: "tenant-1", clientId: "client-1", authorityHost: "https://login.example.com",
                                                       caBundlePEM: nil, transport: fake.transport, assertion: { jwt })
        do {
            _ = try credential.token(resource: "https://vault.azure.net", tenant: "")
            Issue.record("no error")
        } catch {
            #expect(error.code == "AADSTS70021")
            #expect(!error.isRetryable)
            #expect(error.message.contains("issuer '\(issuer)'"))
            #expect(error.message.contains("subject '\(subject)'"))
            #expect(error.message.contains("audience 'api://AzureADTokenExchange'"))
            #expect(error.message.contains("(trace id 0a0a-trace)"))
            #expect(!error.message.contains("Correlation ID"))
            #expect(error.hint == "az identity federated-credential create --name aios-kv-sync --identity-name <UAMI-NAME> "
                + "--resource-group <RESOURCE-GROUP> --issuer \(issuer) --subject \(subject) --audience api://AzureADTokenExchange")
            for text in [error.message, error.description, error.hint ?? ""] {
                #expect(!text.contains(jwt))
                #expect(!text.contains(jwt.split(separator: ".")[1]))
                #expect(!text.contains("c2lnbmF0dXJlLXNlY3JldC1wYXJ0"))
            }
        }
    }

    @Test(arguments: [(700211, "issuer"), (7002121, "audience"), (700213, "subject")])
    func eachFederatedCredentialMismatchCodeGetsTheSameGuidance(code: Int, claim: String) throws {
        let body = #"{"error":"invalid_request","error_description":"AADSTS\#(code): No matching federated identity record found for presented assertion \#(claim).","error_codes":[\#(code)]}"#
        let fake = FakeHTTP { _, _ in json(400, body) }
        let jwt = assertion
        let credential = try ClientAssertionCredential(tenantId: "tenant-1", clientId: "client-1", authorityHost: "https://login.example.com",
                                                       caBundlePEM: nil, transport: fake.transport, assertion: { jwt })
        let error = #expect(throws: AzureAuthError.self) { try credential.token(resource: "https://vault.azure.net", tenant: "") }
        #expect(error?.code == "AADSTS\(code)")
        #expect(error?.message.contains("no credential has this \(claim)") == true)
        #expect(error?.message.contains("subject '\(subject)'") == true)
        #expect(error?.hint == "az identity federated-credential create --name aios-kv-sync --identity-name <UAMI-NAME> "
            + "--resource-group <RESOURCE-GROUP> --issuer \(issuer) --subject \(subject) --audience api://AzureADTokenExchange")
    }

    @Test func beforeWorkloadIdentityIsEnabledTheHintSaysEnableItFirst() throws {
        let body = #"{"error":"invalid_request","error_description":"AADSTS700211: No matching federated identity record found for presented assertion issuer.","error_codes":[700211]}"#
        let fake = FakeHTTP { _, _ in json(400, body) }
        let jwt = makeJWT(#"{"iss":"https://kubernetes.default.svc.cluster.local","sub":"\#(subject)","aud":["api://AzureADTokenExchange"],"exp":1999999999}"#)
        let credential = try ClientAssertionCredential(tenantId: "tenant-1", clientId: "client-1", authorityHost: "https://login.example.com",
                                                       caBundlePEM: nil, transport: fake.transport, assertion: { jwt })
        let error = #expect(throws: AzureAuthError.self) { try credential.token(resource: "https://vault.azure.net", tenant: "") }
        let hint = try #require(error?.hint)
        #expect(hint.hasPrefix("enable workload identity first"))
        #expect(hint.contains("az connectedk8s update --name <CLUSTER> --resource-group <RESOURCE-GROUP> --enable-oidc-issuer --enable-workload-identity"))
        #expect(hint.contains("aiosctl workload-identity enable"))
        #expect(!hint.contains("federated-credential create"), "federating K3s' default issuer is the wrong fix")
    }

    @Test(arguments: [
        (700024, 401, "validity window"), (700016, 400, "client-1 is not an application"), (90002, 400, "Tenant tenant-1 does not exist"),
        (90061, 400, "publicly reachable"), (7000215, 401, "rejected the client secret"), (7000222, 401, "has expired"),
        (700027, 401, "signature"),
    ])
    func mapsEntraErrorCodes(code: Int, status: Int, phrase: String) {
        let body = #"{"error":"invalid_client","error_description":"AADSTS\#(code): text.\r\nTrace ID: t1","error_codes":[\#(code)]}"#
        let error = EntraErrorMapper.error(status: status, body: Array(body.utf8),
                                           context: .init(tenant: "tenant-1", clientId: "client-1", assertionClaims: nil, secrets: []))
        #expect(error.code == "AADSTS\(code)")
        #expect(error.message.contains(phrase))
        #expect(error.message.hasSuffix("(trace id t1)"))
        #expect(!error.isRetryable)
    }

    @Test func outagesAreRetryableAndEchoedSecretsRedacted() {
        let context = EntraErrorMapper.Context(tenant: "t", clientId: "c", assertionClaims: nil, secrets: ["hunter2-secret"])
        let unavailable = EntraErrorMapper.error(status: 503, body: Array("<html>".utf8), context: context)
        #expect(unavailable.isRetryable)
        #expect(unavailable.code == "http_503")
        let echo = EntraErrorMapper.error(status: 400, body: Array(#"{"error":"invalid_request","error_description":"bad value hunter2-secret"}"#.utf8),
                                          context: context)
        #expect(!echo.message.contains("hunter2-secret"))
        #expect(echo.code == "invalid_request")
    }

    @Test func splitsTheTraceTail() {
        let (line, trace) = EntraErrorMapper.splitDescription("AADSTS90002: Tenant 'x' not found.\r\nTrace ID: abc\r\nCorrelation ID: def")
        #expect(line == "AADSTS90002: Tenant 'x' not found.")
        #expect(trace == "abc")
    }

    @Test func clientSecretFileMustBePrivateAndIsReReadEachTime() throws {
        let directory = try TemporaryDirectory(prefix: "aios-cs")
        defer { directory.remove() }
        let path = try directory.write("secret", "first-secret\n", mode: 0o644)
        let fake = FakeHTTP { _, _ in json(200, #"{"access_token":"at","expires_in":3600}"#) }
        let credential = try ClientSecretCredential(tenantId: "tenant-1", clientId: "client-1", secretFile: path,
                                                    authorityHost: "https://login.example.com", caBundlePEM: nil, transport: fake.transport)
        do {
            _ = try credential.token(resource: "https://vault.azure.net", tenant: "tenant-1")
            Issue.record("a world-readable secret file was accepted")
        } catch {
            #expect(error.code == "secret_file")
            #expect(error.message.contains("chmod 0600"))
            #expect(!error.message.contains("first-secret"))
        }
        #expect(fake.requests.isEmpty)
        chmod(path, 0o600)
        _ = try credential.token(resource: "https://vault.azure.net", tenant: "tenant-1")
        #expect(fake.requests.last?.bodyText.contains("client_secret=first-secret&") == true
            || fake.requests.last?.bodyText.hasSuffix("client_secret=first-secret") == true)
        try directory.write("secret", "rotated-secret\r\n", mode: 0o600)
        _ = try credential.token(resource: "https://vault.azure.net", tenant: "tenant-1")
        #expect(fake.requests.last?.bodyText.hasSuffix("client_secret=rotated-secret") == true)
    }

    @Test func symlinkedSecretFileIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "aios-cs")
        defer { directory.remove() }
        let target = try directory.write("real", "s", mode: 0o600)
        symlink(target, directory.file("link"))
        let credential = try ClientSecretCredential(tenantId: "t", clientId: "c", secretFile: directory.file("link"))
        #expect(throws: AzureAuthError.self) { _ = try credential.readSecret() }
    }
}
