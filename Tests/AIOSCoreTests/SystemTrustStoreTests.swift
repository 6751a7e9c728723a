import AIOSHTTP
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

    @Test func withoutABundleFileLibcurlKeepsItsOwnSettings() throws {
        let directory = try TemporaryDirectory(prefix: "trust")
        defer { directory.remove() }
        let server = try TLSTestServer(in: directory)
        defer { server.stop() }
        let trust = SystemTrustStore(file: directory.file("missing.pem"), directory: nil)
        // libcurl's own CA file (the host's) does not know the test server: refused, not let through.
        #expect(throws: HTTPClientError.self) { try HTTPConnection(systemTrust: trust).send(server.request()) }
        #expect(trust.loads == 0)
    }
}

/// `openssl s_server -www` on a free loopback port with a fresh self-signed certificate for 127.0.0.1.
private final class TLSTestServer {
    let port: Int
    let certificatePEM: String
    let unrelatedPEM: String
    private let process: ChildProcess

    init(in directory: TemporaryDirectory) throws {
        for name in ["server", "unrelated"] {
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
        process = try ChildProcess(["/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory.file("server.crt"),
                                    "-key", directory.file("server.key"), "-www", "-quiet"],
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
