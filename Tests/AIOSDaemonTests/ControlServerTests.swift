import AIOSAPI
import AIOSClient
@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// The control server and the typed client, in one process, over a real Unix socket.
@Suite struct ControlServerTests {
    @Test func statusDescribesTheDaemon() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let status = try daemon.client.call(API.status)
            #expect(status.version == AgentVersion.current)
            #expect(status.pid == getpid())
            #expect(status.socketPath == daemon.socketPath)
            #expect(status.configPath == daemon.configPath)
            #expect(!status.socketActivated)
            #expect(status.watchdogSeconds == nil)
            let services = Dictionary(uniqueKeysWithValues: status.services.map { ($0.name, $0.state) })
            #expect(services["control-server"] == .running)
            #expect(services["config-reloader"] == .running)
        }
    }

    @Test func versionNamesTheLibraries() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let version = try daemon.client.call(API.version)
            #expect(version.libraries["libcurl"]?.isEmpty == false)
            #expect(version.libraries["openssl"]?.hasPrefix("OpenSSL") == true)
        }
    }

    @Test func socketIsCreatedWithMode0660() async throws {
        try await DaemonHarness.withDaemon { daemon in
            var info = stat()
            #expect(stat(daemon.socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o660)
        }
    }

    @Test func unknownPathAndWrongMethod() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            try socket.send("GET /v1/nothing HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
            let notFound = socket.readAll(timeout: TestDeadline.answer).text
            #expect(notFound.hasPrefix("HTTP/1.1 404"))
            #expect(notFound.contains(#""code":"not_found""#))

            let second = try UnixSocket(connectingTo: daemon.socketPath)
            try second.send("DELETE /v1/status HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
            let notAllowed = second.readAll(timeout: TestDeadline.answer).text
            #expect(notAllowed.hasPrefix("HTTP/1.1 405"))
            #expect(notAllowed.contains(#""code":"method_not_allowed""#))
        }
    }

    @Test(arguments: ["Origin: http://evil.example", "Referer: http://evil.example/page"])
    func browserRequestsAreRefused(_ header: String) async throws {
        try await DaemonHarness.withDaemon { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            try socket.send("GET /v1/status HTTP/1.1\r\nHost: aiosd\r\n\(header)\r\n\r\n")
            let (response, closed) = socket.readAll(timeout: TestDeadline.answer)
            #expect(response.hasPrefix("HTTP/1.1 403"))
            #expect(response.contains(#""code":"origin_refused""#))
            #expect(!response.contains("\"pid\""))
            #expect(closed)
        }
    }

    @Test func oversizedBodyByContentLength() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            try socket.send("POST /v1/config/reload HTTP/1.1\r\nHost: aiosd\r\nContent-Length: \(2 << 20)\r\n\r\n")
            let (response, closed) = socket.readAll(timeout: TestDeadline.answer)
            #expect(response.hasPrefix("HTTP/1.1 413"))
            #expect(response.contains(#""code":"payload_too_large""#))
            #expect(closed)
        }
    }

    @Test func oversizedChunkedBody() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  maxBodyBytes: 1024\n") { daemon in
            let before = try daemon.client.call(API.status)
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            let chunk = String(repeating: "x", count: 800)
            try socket.send("POST /v1/config/reload HTTP/1.1\r\nHost: aiosd\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "320\r\n\(chunk)\r\n320\r\n\(chunk)\r\n0\r\n\r\n")
            let response = socket.readAll(timeout: TestDeadline.answer).text
            #expect(response.hasPrefix("HTTP/1.1 413"))
            // Refused before it ran: no reload happened.
            let after = try daemon.client.call(API.status)
            #expect(after.lastReload == before.lastReload)
        }
    }

    @Test(arguments: ["GARBAGE\r\n\r\n", "GET /v1/status HTTP/9.9 extra\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n"])
    func malformedRequestLine(_ garbage: String) async throws {
        try await DaemonHarness.withDaemon { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            try socket.send(garbage)
            let (response, closed) = socket.readAll(timeout: TestDeadline.answer)
            #expect(response.isEmpty || response.hasPrefix("HTTP/1.1 400"), "\(response)")
            #expect(closed)
            // The daemon keeps serving others.
            #expect(try daemon.client.call(API.status).pid == getpid())
        }
    }

    @Test func stalledClientDoesNotBlockOthers() async throws {
        // The stalled client may hold its connection for 120 s; the others must be served meanwhile, each within
        // the tests' answer deadline (30 s), which a server blocked by the first client would exceed.
        try await DaemonHarness.withDaemon(config: "control:\n  headerTimeout: 120s\n") { daemon in
            let stalled = try UnixSocket(connectingTo: daemon.socketPath)
            try stalled.send("GET /v1/status HTTP/1.1\r\nHost: ai")  // and then nothing
            let impatient = ControlClient(socketPath: daemon.socketPath, timeout: TestDeadline.answer)
            for _ in 0..<10 {
                #expect(try impatient.call(API.status).pid == getpid())
            }
            let other = try UnixSocket(connectingTo: daemon.socketPath)
            try other.send("GET /v1/version HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
            #expect(other.readAll(timeout: TestDeadline.answer).text.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func stalledClientIsDropped() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  headerTimeout: 300ms\n") { daemon in
            let stalled = try UnixSocket(connectingTo: daemon.socketPath)
            try stalled.send("GET /v1/status HTTP/1.1\r\nHost: ai")
            let (response, closed) = stalled.readAll(timeout: TestDeadline.answer)
            #expect(closed, "a client that never finishes its request head is dropped")
            #expect(!response.contains("\"pid\""))
        }
    }

    @Test func connectionCapClosesExtraConnections() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  maxConnections: 2\n") { daemon in
            // Root (this test) may hold the limit plus its own reserve: each connected, served once and kept alive,
            // so all certainly count against the cap. (Each sends its request as it connects: a connection that
            // waits for the others' answers first may pass control.headerTimeout, 5 s, on a loaded machine.)
            var held: [UnixSocket] = []
            for _ in 0..<(2 + ConnectionShares.rootReserve) {
                let socket = try UnixSocket(connectingTo: daemon.socketPath)
                try socket.send("GET /v1/version HTTP/1.1\r\nHost: aiosd\r\n\r\n")
                #expect(socket.readResponse(timeout: TestDeadline.answer).hasPrefix("HTTP/1.1 200"))
                held.append(socket)
            }
            let extra = try UnixSocket(connectingTo: daemon.socketPath)
            try? extra.send("GET /v1/status HTTP/1.1\r\nHost: aiosd\r\n\r\n")
            let (response, closed) = extra.readAll(timeout: TestDeadline.answer)
            #expect(closed)
            #expect(!response.contains("\"pid\""))
            #expect(response.hasPrefix("HTTP/1.1 503"), "told it is busy, before its request is read")
            #expect(response.contains("\"code\":\"busy\""))
            // Each held connection ends as a client ends it: the server closes it (and frees its share) before the
            // client sees the end.
            for socket in held {
                try socket.send("GET /v1/version HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
                #expect(socket.readAll(timeout: TestDeadline.answer).closed)
            }
            held.removeAll()
            #expect(try daemon.client.call(API.status).pid == getpid())
        }
    }

    @Test func reloadAcceptsGoodAndRefusesBadConfig() async throws {
        try await DaemonHarness.withDaemon(config: "logLevel: info\n") { daemon in
            try daemon.directory.write("aiosd.yaml", "logLevel: debug\ncontrol:\n  socket: /run/elsewhere.sock\n")
            let accepted = try daemon.client.call(API.configReload)
            #expect(accepted.needsRestart == ["control.socket"])

            try daemon.directory.write("aiosd.yaml", "logLevel: shouting\n")
            do {
                _ = try daemon.client.call(.configReload)
                Issue.record("a bad configuration was accepted")
            } catch let error as ClientError {
                #expect(error.kind == .failed)
                #expect(error.apiError?.code == "config_invalid")
                #expect(error.message.contains("aiosd.yaml:1"))
                #expect(error.message.contains("logLevel"))
            }
            let status = try daemon.client.call(API.status)
            #expect(status.lastReload?.accepted == false)
            #expect(status.lastReload?.error?.contains("logLevel") == true)
            // Still serving on the original socket: the refused file changed nothing.
            #expect(status.socketPath == daemon.socketPath)
        }
    }

    @Test func liveSocketIsNotReplaced() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let (_, status) = try Self.startSecondDaemon(socketPath: daemon.socketPath)
            #expect(status.contains("another process is listening"))
            #expect(try daemon.client.call(API.status).pid == getpid())
        }
    }

    static func startSecondDaemon(socketPath: String) throws -> (Int32?, String) {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let child = try ChildProcess([BuiltProducts.aiosd, "--config", directory.file("none.yaml"), "--socket", socketPath],
                                     environment: cleanEnvironment(), stderrPath: directory.file("out"))
        let code = child.wait(timeout: TestDeadline.answer)
        return (code, child.output)
    }
}
