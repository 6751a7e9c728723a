@testable import AIOSHTTP
import AIOSTestSupport
import Foundation
import Glibc
import Testing

@Suite struct HTTPConnectionTests {
    @Test func reusesTheConnectionAndCollectsHeaders() throws {
        let server = try LoopbackHTTPServer { path in
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Path: \(path)\r\nContent-Length: 2\r\n\r\nok"
        }
        defer { server.stop() }
        let connection = HTTPConnection()
        for index in 0..<3 {
            let response = try connection.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/r\(index)", timeout: TestDeadline.answer))
            #expect(response.status == 200)
            #expect(response.body == Array("ok".utf8))
            #expect(response.header("x-request-path") == "/r\(index)")
            #expect(response.header("X-REQUEST-PATH") == "/r\(index)")
            #expect(response.header("missing") == nil)
        }
        #expect(server.connectionsAccepted == 1)
        // HTTPClient opens a connection per call, as before.
        _ = try HTTPClient().send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/a", timeout: TestDeadline.answer))
        #expect(server.connectionsAccepted == 2)
    }

    @Test func keepsOnlyTheFinalResponsesHeaders() throws {
        let server = try LoopbackHTTPServer { _ in
            "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 201 Created\r\nX-Final: yes\r\nContent-Length: 0\r\n\r\n"
        }
        defer { server.stop() }
        let response = try HTTPConnection().send(HTTPRequest(method: .post, url: "http://127.0.0.1:\(server.port)/", body: Array("x".utf8),
                                                             timeout: TestDeadline.answer))
        #expect(response.status == 201)
        #expect(response.header("X-Final") == "yes")
        #expect(response.header("X-Interim") == nil)
    }

    @Test func headerNamesAndValuesAreTrimmedAndALineWithoutANameDropped() throws {
        let server = try LoopbackHTTPServer { _ in
            "HTTP/1.1 200 OK\r\nX-Spaced: \t padded value \t\r\nX-Empty:\r\n: no name\r\nRetry-After:7\r\nContent-Length: 0\r\n\r\n"
        }
        defer { server.stop() }
        let response = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/", timeout: TestDeadline.answer))
        #expect(response.header("x-spaced") == "padded value")
        #expect(response.header("X-Empty") == "")
        #expect(response.header("Retry-After") == "7")
        #expect(!response.headers.contains { $0.name.isEmpty || $0.value == "no name" })
    }

    @Test func stopsReadingABodyPastItsLimit() throws {
        let body = String(repeating: "x", count: 300 << 10)
        let server = try LoopbackHTTPServer { _ in "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)" }
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/big"
        do {
            _ = try HTTPConnection().send(HTTPRequest(method: .get, url: url, timeout: TestDeadline.answer, maximumResponseBytes: 64 << 10))
            Issue.record("a body over the limit was accepted")
        } catch {
            #expect(error.kind == .responseTooLarge)
            #expect(error.message == "the response body exceeds 65536 bytes; the rest was not read")
        }
        var received = 0
        #expect(throws: HTTPClientError.self) {
            _ = try HTTPConnection().stream(HTTPRequest(method: .get, url: url, timeout: TestDeadline.answer, maximumResponseBytes: 100_000)) {
                received += $0.count
            }
        }
        #expect(received <= 100_000, "nothing past the limit reaches the caller")
        // At the limit exactly, and under it, the body is whole.
        let whole = try HTTPConnection().send(HTTPRequest(method: .get, url: url, timeout: TestDeadline.answer, maximumResponseBytes: 300 << 10))
        #expect(whole.body.count == 300 << 10)
    }

    @Test func theConfiguredProxyCarriesOnlyTheRequestsThatAskForIt() throws {
        // A loopback server standing in for the site's proxy: it sees the absolute URL of a proxied request.
        let proxy = try LoopbackHTTPServer { path in "HTTP/1.1 200 OK\r\nX-Seen: \(path)\r\nContent-Length: 0\r\n\r\n" }
        defer { proxy.stop() }
        OutboundProxy.current = "http://127.0.0.1:\(proxy.port)"
        defer { OutboundProxy.current = nil }
        let proxied = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://vault.example.invalid/secrets/a", timeout: TestDeadline.answer,
                                                            usesOutboundProxy: true))
        #expect(proxied.header("X-Seen") == "http://vault.example.invalid/secrets/a", "the request went through the proxy")
        #expect(HTTPConnection(systemTrust: .shared, environment: { _ in nil })
            .goesThroughProxy(HTTPRequest(method: .get, url: "https://kv.vault.azure.net/", usesOutboundProxy: true)))
        // IMDS/Arc and the K3s API bypass it: this one goes straight to its (unresolvable) host and fails.
        #expect(throws: HTTPClientError.self) {
            _ = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://vault.example.invalid/x", timeout: TestDeadline.answer, bypassesProxy: true))
        }
        #expect(OutboundProxy.isValid("http://proxy.corp:3128"))
        #expect(OutboundProxy.isValid("https://[fd00::1]:8443/"))
        for bad in ["proxy:3128", "http://user:pw@proxy:3128", "http://proxy", "http://proxy:3128/path", "socks5://p:1080", "http://p\n:1"] {
            #expect(!OutboundProxy.isValid(bad), "\(bad)")
        }
    }

    @Test func aChunkedAnswerIsReadWholeAndTheConnectionKept() throws {
        let server = try LoopbackHTTPServer { _ in "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" }
        defer { server.stop() }
        let connection = HTTPConnection()
        for _ in 0..<3 {
            let response = try connection.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/", timeout: TestDeadline.answer))
            #expect(String(decoding: response.body, as: UTF8.self) == "abcde")
        }
        #expect(server.connectionsAccepted == 1)
    }

    @Test func aKeptConnectionTheServerClosedIsReplacedAndTheRequestSentAgain() throws {
        // Each connection answers its first request and closes on the second without a word, as a server whose
        // keep-alive ran out just as the request arrived: the request goes out once more, on a new connection.
        let server = try LoopbackHTTPServer(answersPerConnection: 1) { path in "HTTP/1.1 200 OK\r\nContent-Length: \(path.utf8.count)\r\n\r\n\(path)" }
        defer { server.stop() }
        let connection = HTTPConnection()
        for index in 0..<3 {
            let response = try connection.send(HTTPRequest(method: .put, url: "http://127.0.0.1:\(server.port)/r\(index)", body: Array("x".utf8),
                                                           timeout: TestDeadline.answer))
            #expect(String(decoding: response.body, as: UTF8.self) == "/r\(index)")
        }
        #expect(server.connectionsAccepted == 3)
        #expect(server.requestsReceived == 5, "the first request once, each later one twice")
    }

    @Test func connectionCloseMeansANewConnectionForTheNextRequest() throws {
        let server = try LoopbackHTTPServer { _ in "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n" }
        defer { server.stop() }
        let connection = HTTPConnection()
        for _ in 0..<2 { _ = try connection.send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(server.port)/", timeout: TestDeadline.answer)) }
        #expect(server.connectionsAccepted == 2)
    }

    @Test func silenceRefusalAndNonsenseEachGetTheirOwnError() throws {
        let silent = try LoopbackHTTPServer { _ in "" }
        defer { silent.stop() }
        let started = ContinuousClock.now
        do {
            _ = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(silent.port)/", timeout: .milliseconds(300)))
            Issue.record("a server that never answers was not timed out")
        } catch {
            #expect(error.kind == .timedOut)
            #expect(ContinuousClock.now - started < TestDeadline.answer)
        }
        let port = silent.port
        silent.stop()
        do {
            _ = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(port)/", timeout: TestDeadline.answer))
            Issue.record("a closed port was reached")
        } catch {
            #expect(error.kind == .couldNotConnect)
            #expect(error.message == "could not connect to 127.0.0.1 port \(port): Connection refused")
        }
        let nonsense = try LoopbackHTTPServer { _ in "SSH-2.0-OpenSSH_9.2\r\n\r\n" }
        defer { nonsense.stop() }
        do {
            _ = try HTTPConnection().send(HTTPRequest(method: .get, url: "http://127.0.0.1:\(nonsense.port)/", timeout: TestDeadline.answer))
            Issue.record("an answer that is not HTTP was accepted")
        } catch {
            #expect(error.kind == .transport)
            #expect(error.message == "the server's answer is not an HTTP/1.x response")
        }
    }
}

/// A loopback HTTP/1.1 server with keep-alive that answers every request with `respond(path)` (raw bytes)
/// and counts the TCP connections it accepted.
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var accepted = 0
    private var requests = 0
    private let respond: @Sendable (String) -> String
    private let answersPerConnection: Int

    var connectionsAccepted: Int { lock.withLock { accepted } }
    var requestsReceived: Int { lock.withLock { requests } }

    /// - Parameter answersPerConnection: after this many answers, the next request on the connection is read and the
    ///   connection closed without an answer.
    init(answersPerConnection: Int = .max, respond: @escaping @Sendable (String) -> String) throws {
        self.respond = respond
        self.answersPerConnection = answersPerConnection
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            lock.withLock { accepted += 1 }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var answered = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer.append(contentsOf: chunk[0..<count])
            while let end = Self.headerEnd(buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                guard buffer.count >= end + 4 + length else { break }
                buffer.removeFirst(end + 4 + length)
                let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                lock.withLock { requests += 1 }
                guard answered < answersPerConnection else { return }
                answered += 1
                let bytes = Array(respond(path).utf8)
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
