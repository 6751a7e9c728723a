@testable import AIOSHTTP
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// The shared trust store against a real TLS server (`openssl s_server`, which closes each connection after its
/// answer, so every request sets up a new TLS connection).
@Suite struct SystemTrustStoreTests {
    @Test func everyNewConnectionVerifiesAgainstTheStoreReadOnceUntilTheBundleChanges() throws {
        let directory = try TemporaryDirectory(prefix: "trust")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory)
        defer { server.stop() }
        // The server's certificate is in no system bundle: only the store made from this bundle can let it pass.
        let bundle = directory.file("bundle.pem")
        try (server.unrelatedPEM + server.certificatePEM).write(toFile: bundle, atomically: true, encoding: .utf8)
        let trust = SystemTrustStore(file: bundle, directory: nil, recheckInterval: .zero)

        for _ in 0..<4 {
            let response = try HTTPConnection(systemTrust: trust).send(server.request())
            #expect(response.status == 200)
        }
        #expect(trust.loads == 1)

        // update-ca-certificates writes a new bundle: the next new connection is verified against it.
        try server.unrelatedPEM.write(toFile: bundle, atomically: true, encoding: .utf8)
        #expect(throws: HTTPClientError.self) { try HTTPConnection(systemTrust: trust).send(server.request()) }
        #expect(trust.loads == 2)

        try (server.certificatePEM + server.unrelatedPEM).write(toFile: bundle, atomically: true, encoding: .utf8)
        #expect(try HTTPConnection(systemTrust: trust).send(server.request()).status == 200)
        #expect(trust.loads == 3)
    }

    @Test func theBundleIsLookedAtOnceAnIntervalAtMost() throws {
        let directory = try TemporaryDirectory(prefix: "trust")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory)
        defer { server.stop() }
        let bundle = directory.file("bundle.pem")
        try server.certificatePEM.write(toFile: bundle, atomically: true, encoding: .utf8)
        let trust = SystemTrustStore(file: bundle, directory: nil, recheckInterval: .seconds(1))
        #expect(try HTTPConnection(systemTrust: trust).send(server.request()).status == 200)
        // Replaced within the interval: the store read before still holds, the file is not looked at.
        try server.unrelatedPEM.write(toFile: bundle, atomically: true, encoding: .utf8)
        #expect(try HTTPConnection(systemTrust: trust).send(server.request()).status == 200)
        #expect(trust.loads == 1)
        // After it, the new bundle is read, and the server it does not hold is refused.
        Thread.sleep(forTimeInterval: 1.1)
        #expect(throws: HTTPClientError.self) { try HTTPConnection(systemTrust: trust).send(server.request()) }
        #expect(trust.loads == 2)
    }

    @Test func aRequestWithItsOwnBundleTrustsOnlyThatBundle() throws {
        let directory = try TemporaryDirectory(prefix: "trust")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory)
        defer { server.stop() }
        let bundle = directory.file("bundle.pem")
        try server.certificatePEM.write(toFile: bundle, atomically: true, encoding: .utf8)
        let trust = SystemTrustStore(file: bundle, directory: nil)
        // The K3s API server's way: k3s.yaml's CA only. The shared store trusts the server, the request's CA does not.
        var request = server.request()
        request.tls = TLSCredentials(caBundlePEM: Array(server.unrelatedPEM.utf8), trustsOnlyBundle: true)
        #expect(throws: HTTPClientError.self) { try HTTPConnection(systemTrust: trust).send(request) }
        #expect(trust.loads == 0)
    }

    @Test func theSharedStoreReadsTheFilesLibcurlWasBuiltToTrust() {
        // aiosd names them itself so that it need not load libcurl to ask (libcurl is loaded only for a proxy).
        let libcurl = CurlEasy.defaultTrust
        #expect(libcurl.file == SystemTrustStore.defaultFile)
        #expect(libcurl.directory == SystemTrustStore.defaultDirectory)
    }

    @Test func withoutABundleFileNothingIsTrusted() throws {
        let directory = try TemporaryDirectory(prefix: "trust")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory)
        defer { server.stop() }
        let trust = SystemTrustStore(file: directory.file("missing.pem"), directory: nil)
        // No bundle to read and no CA directory: the connection is refused, not let through unverified.
        #expect(throws: HTTPClientError.self) { try HTTPConnection(systemTrust: trust).send(server.request()) }
        #expect(trust.loads == 0)
    }
}

/// aiosd's own TLS client (`TLSStream`) against `openssl s_server`: the name in the URL must be the certificate's,
/// and a client certificate (the K3s API server's way) is presented when the request has one.
@Suite struct TLSClientTests {
    @Test func theServersNameIsCheckedAndTheClientCertificatePresented() throws {
        let directory = try TemporaryDirectory(prefix: "tls")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory, requireClientCertificate: true)
        defer { server.stop() }
        let bundle = Array(server.certificatePEM.utf8)
        let client = try String(contentsOfFile: directory.file("client.crt"), encoding: .utf8)
        let key = try String(contentsOfFile: directory.file("client.key"), encoding: .utf8)
        let unrelatedKey = try String(contentsOfFile: directory.file("unrelated.key"), encoding: .utf8)
        func send(_ host: String, certificate: String?, key: String?) throws(HTTPClientError) -> HTTPResponse {
            var request = HTTPRequest(method: .get, url: "https://\(host):\(server.port)/", timeout: TestDeadline.answer)
            request.tls = TLSCredentials(caBundlePEM: bundle, clientCertificatePEM: certificate.map { Array($0.utf8) },
                                         clientKeyPEM: key.map { Array($0.utf8) }, trustsOnlyBundle: true)
            return try HTTPConnection().send(request)
        }
        #expect(try send("127.0.0.1", certificate: client, key: key).status == 200)
        do {
            _ = try send("localhost", certificate: client, key: key)
            Issue.record("a certificate for 127.0.0.1 passed for localhost")
        } catch {
            #expect(error.message == "the server's certificate was not accepted: hostname mismatch")
        }
        #expect(throws: HTTPClientError.self, "the server asks for a client certificate") { try send("127.0.0.1", certificate: nil, key: nil) }
        do {
            _ = try send("127.0.0.1", certificate: client, key: unrelatedKey)
            Issue.record("a client certificate with another key was used")
        } catch {
            #expect(error.message == "the client certificate or its key could not be read, or they do not match")
        }
    }
}

/// `openssl s_server -www` on a free loopback port with a fresh self-signed certificate for 127.0.0.1.
private final class TLSTestServer {
    let port: Int
    let certificatePEM: String
    let unrelatedPEM: String
    private let process: ChildProcess

    /// - Parameter requireClientCertificate: the server asks for a client certificate and accepts only `client.crt`.
    init(in directory: TemporaryDirectory, requireClientCertificate: Bool = false) throws {
        for name in ["server", "unrelated", "client"] {
            let made = try runProcess("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc",
                "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).crt"), "-subj", "/CN=127.0.0.1",
                "-days", "2", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
            guard made.status == 0 else { throw TestServerError(message: "openssl req: \(made.stderr)") }
        }
        certificatePEM = try String(contentsOfFile: directory.file("server.crt"), encoding: .utf8)
        unrelatedPEM = try String(contentsOfFile: directory.file("unrelated.crt"), encoding: .utf8)
        port = try Self.freePort()
        // ChildProcess, not Foundation's Process: that one leaves the test runner's blocked signals blocked in the
        // child, and s_server would then ignore the SIGTERM that stops it.
        let verify = requireClientCertificate ? ["-Verify", "1", "-CAfile", directory.file("client.crt")] : []
        process = try ChildProcess(["/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory.file("server.crt"),
                                    "-key", directory.file("server.key"), "-www", "-quiet"] + verify,
                                   environment: [:], stderrPath: directory.file("s_server.log"))
        let deadline = ContinuousClock.now + TestDeadline.answer
        while !Self.accepts(port) {
            guard ContinuousClock.now < deadline, process.wait(timeout: .zero) == nil else {
                throw TestServerError(message: "openssl s_server did not listen on \(port): \(process.output)")
            }
            usleep(20_000)
        }
    }

    func request() -> HTTPRequest {
        HTTPRequest(method: .get, url: "https://127.0.0.1:\(port)/", timeout: TestDeadline.answer)
    }

    func stop() {
        process.signal(SIGTERM)
        _ = process.wait(timeout: TestDeadline.answer)
    }

    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestServerError(message: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

private struct TestServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
