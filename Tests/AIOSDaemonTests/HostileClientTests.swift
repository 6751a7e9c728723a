import AIOSAPI
import AIOSClient
@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Glibc
import NIOCore
import Testing

/// The control socket under misbehaving clients: pipelining, slow bodies, floods.
@Suite struct HostileClientTests {
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            // Two requests in one write; the second closes the connection after its answer.
            try socket.send("GET /v1/version HTTP/1.1\r\nHost: aiosd\r\n\r\nGET /v1/status HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
            let (text, closed) = socket.readAll(timeout: TestDeadline.answer)
            #expect(closed)
            let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(responses.count == 2, "\(text)")
            #expect(responses.first?.hasPrefix("200") == true)
            #expect(responses.first?.contains("\"libcurl\"") == true || responses.first?.contains("version") == true)
            #expect(responses.last?.hasPrefix("200") == true)
            #expect(responses.last?.contains("\"pid\"") == true, "the second answer is the status, after the version")
        }
    }

    @Test func aStalledBodyIsDropped() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  bodyTimeout: 300ms\n") { daemon in
            let socket = try UnixSocket(connectingTo: daemon.socketPath)
            try socket.send("POST /v1/config/reload HTTP/1.1\r\nHost: aiosd\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{")
            let (response, closed) = socket.readAll(timeout: TestDeadline.answer)
            #expect(closed, "a client that never finishes its body is dropped")
            #expect(response.isEmpty)
        }
    }

    @Test func aNulInANameIsRefusedAndDeletesNothing() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: SecretAPITests.config(definitions.path)) { daemon in
            _ = try daemon.client.call(API.secretAdd, SecretAPITests.request(SecretAPITests.plain))
            // "db.yaml\0" would reach unlink() as ".../db.yaml": the file of definition "db".
            do {
                _ = try daemon.client.call(.secretRemove, parameters: ["name": "db.yaml\u{0}"], body: Array("{}".utf8))
                Issue.record("a name with a NUL was accepted")
            } catch let error as ClientError {
                #expect(error.apiError?.code == "bad_request")
                #expect(error.message.contains("U+0000"), "\(error.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
            #expect(FileManager.default.fileExists(atPath: definitions.file("db.yaml")), "nothing was deleted")
            // In a JSON body too, escaped or not: a control character and a line separator.
            for name in ["db\u{1B}[2J", "db\u{2028}x"] {
                var definition = SecretAPITests.plain
                definition.name = name
                #expect(throws: ClientError.self) {
                    _ = try daemon.client.call(API.secretAdd, SecretAPITests.request(definition))
                }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: definitions.path) == ["db.yaml"])
        }
    }

    @Test func sharesAreCountedPerUidWithSlotsOfRootsOwn() {
        let shares = ConnectionShares(limit: 8)
        #expect(shares.perUser == 2)
        #expect(shares.acquire(uid: 1000) && shares.acquire(uid: 1000))
        #expect(!shares.acquire(uid: 1000), "a user's share is a quarter of the limit")
        #expect(shares.acquire(uid: 1001), "another user still gets in")
        for uid: UInt32 in 1002...1004 { _ = shares.acquire(uid: uid); _ = shares.acquire(uid: uid) }
        #expect(!shares.acquire(uid: 1005), "the limit holds for all non-root users together")
        for _ in 0..<ConnectionShares.rootReserve { #expect(shares.acquire(uid: 0), "root has slots of its own past the limit") }
        #expect(!shares.acquire(uid: 0), "root's own limit: the limit plus its reserve")
        shares.release(uid: 1000)
        #expect(shares.held(by: 1000) == 1)
        #expect(shares.acquire(uid: 1000))
    }

    @Test func refusalsAreLoggedAtMostOncePerInterval() {
        let shares = ConnectionShares(limit: 1)
        let start = NIODeadline.now()
        #expect(shares.noteRefusal(now: start) == 1)
        for _ in 0..<1000 { #expect(shares.noteRefusal(now: start + .seconds(1)) == nil) }
        #expect(shares.noteRefusal(now: start + ConnectionShares.logInterval) == 1001, "the next line reports every refusal since")
    }
}

/// 100 connections from one uid that never finish a request: root and another uid are still served, the flooding
/// uid is told it is busy (aiosctl exit 5). Needs root to run the flood and aiosctl as other uids.
@Suite(.enabled(if: getuid() == 0, "needs root: runs clients as other uids with setpriv"))
struct ConnectionFloodTests {
    /// Tests/tools/control-flood.py: prints how many of its connections stay open (admitted).
    static let flood = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/control-flood.py").path

    /// Runs the flood script as uid nobody against `daemon` with `arguments`; `body` gets its first output line
    /// while the flood holds its connections.
    static func flooding(_ daemon: DaemonHarness, _ arguments: [String], _ body: (String) throws -> Void) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        // A copy where nobody can read it (the checkout may sit under a directory closed to other users).
        let script = try daemon.directory.write("control-flood.py", try String(contentsOfFile: Self.flood, encoding: .utf8), mode: 0o644)
        process.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/python3", script,
                             daemon.socketPath] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        try body(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static let config = "control:\n  socketGroup: nogroup\n  adminGroup: root\n  headerTimeout: 60s\n"

    @Test func aFloodFromOneUidLocksOutNeitherRootNorAnotherUid() async throws {
        try await DaemonHarness.withDaemon(config: Self.config) { daemon in
            try Self.flooding(daemon, ["100"]) { line in
                #expect(Int(line) == 16, "nobody holds its share (64 / 4); the other 84 are refused")
                // Root is served.
                #expect(try daemon.client.call(API.status).pid == getpid())
                // Another unprivileged uid is served.
                let other = try daemon.aiosctl(as: "daemon", group: "nogroup", ["status", "--json"])
                #expect(other.status == 0, "\(other.stderr)")
                // The flooding uid itself is told it is busy, apart from "not running".
                let flooder = try daemon.aiosctl(as: "nobody", group: "nogroup", ["status"])
                #expect(flooder.status == 5, "\(flooder.stderr)")
                #expect(flooder.stderr.contains("too many open control connections from this user"), "\(flooder.stderr)")
            }
        }
    }

    /// Connections that send nothing: 16 admitted, 64 refused ones wait for their request (the cap), and the 20
    /// past the cap are answered `busy` at once instead of being closed without a word (which a client would
    /// take for "not running").
    @Test func pastTheCapOfWaitingRefusalsTheAnswerIsStillBusy() async throws {
        try await DaemonHarness.withDaemon(config: Self.config) { daemon in
            try Self.flooding(daemon, ["100", "silent"]) { line in
                #expect(line == "16 84 0", "admitted, answered busy, closed without a word: \(line)")
                let flooder = try daemon.aiosctl(as: "nobody", group: "nogroup", ["status"])
                #expect(flooder.status == 5, "\(flooder.stderr)")
                #expect(flooder.stderr.contains("too many open control connections from this user"), "\(flooder.stderr)")
            }
        }
    }
}
