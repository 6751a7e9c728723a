import AIOSAPI
import AIOSClient
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// The client's own HTTP/1.1 over the Unix socket against a peer that answers with fixed bytes: what it sends,
/// the framings it reads, and the broken answers it must refuse. (Against the real control server: every other
/// test in this target.)
@Suite struct ControlClientWireTests {
    /// Serves one connection: reads the request head (and `bodyBytes` more), then writes `pieces` one by one.
    final class OneShotPeer: @unchecked Sendable {
        let directory: TemporaryDirectory
        let path: String
        private let listener: Int32
        private(set) var request = ""
        private let done = DispatchSemaphore(value: 0)

        /// `readsRequest` false: writes `pieces` at once and closes without reading (aiosd refusing a connection).
        init(pieces: [String], bodyBytes: Int = 0, readsRequest: Bool = true) throws {
            directory = try TemporaryDirectory(prefix: "aios-wire")
            path = directory.file("peer.sock")
            listener = try makeListeningSocket(path: path)
            Thread.detachNewThread { [self] in
                let connection = accept(listener, nil, nil)
                defer { close(connection); done.signal() }
                guard readsRequest else {
                    for piece in pieces {
                        _ = piece.utf8CString.withUnsafeBufferPointer { send(connection, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
                    }
                    return
                }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") || received.count < headLength(received) + bodyBytes {
                    let count = recv(connection, &buffer, buffer.count, 0)
                    guard count > 0 else { break }
                    received += buffer[..<count]
                }
                request = String(decoding: received, as: UTF8.self)
                for piece in pieces {
                    _ = piece.utf8CString.withUnsafeBufferPointer { send(connection, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
                    usleep(20_000)  // separate reads on the client's side
                }
            }
        }

        private func headLength(_ bytes: [UInt8]) -> Int {
            let text = String(decoding: bytes, as: UTF8.self)
            return text.range(of: "\r\n\r\n").map { text.utf8.distance(from: text.utf8.startIndex, to: $0.upperBound) } ?? .max / 2
        }

        func finish() {
            done.wait()
            close(listener)
            directory.remove()
        }
    }

    @Test func aGetIsOneRequestLineWithHostAndCloseAndAContentLengthBodyIsRead() throws {
        let body = #"{"ok":true}"#
        let peer = try OneShotPeer(pieces: ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Len", "gth: \(body.utf8.count)\r\n\r\n{\"ok\"", ":true}"])
        let bytes = try ControlClient(socketPath: peer.path, timeout: TestDeadline.answer).call(.status)
        peer.finish()
        #expect(String(decoding: bytes, as: UTF8.self) == body)
        #expect(peer.request.hasPrefix("GET /v1/status HTTP/1.1\r\n"), "\(peer.request)")
        #expect(peer.request.contains("\r\nHost: aiosd\r\n"))
        #expect(peer.request.contains("\r\nConnection: close\r\n"))
        #expect(!peer.request.contains("Content-Length"), "a GET has no body")
    }

    @Test func aPostCarriesItsBodyAndAChunkedStreamArrivesLineByLine() throws {
        let first = #"{"event":"progress"}"# + "\n"
        let second = #"{"event":"done"}"# + "\n"
        let peer = try OneShotPeer(pieces: [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            String(first.utf8.count, radix: 16) + "\r\n" + first + "\r\n",
            String(second.utf8.count, radix: 16) + "\r\n" + String(second.prefix(5)), String(second.dropFirst(5)) + "\r\n",
            "0\r\n\r\n",
        ], bodyBytes: 2)
        var lines: [String] = []
        try ControlClient(socketPath: peer.path, timeout: TestDeadline.answer).stream(.sync, body: Array("{}".utf8)) {
            lines.append(String(decoding: $0, as: UTF8.self))
        }
        peer.finish()
        #expect(lines == [#"{"event":"progress"}"#, #"{"event":"done"}"#])
        #expect(peer.request.hasPrefix("POST /v1/sync HTTP/1.1\r\n"))
        #expect(peer.request.contains("\r\nContent-Length: 2\r\n"))
        #expect(peer.request.hasSuffix("\r\n\r\n{}"))
    }

    /// aiosd writes the lines that come together as one chunk: each line is handed over once, in order, a
    /// keep-alive among them skipped, and a line cut between two chunks joined again.
    @Test func aChunkOfManyLinesArrivesLineByLineInOrder() throws {
        let lines = (0..<500).map { #"{"event":"secret","n":\#($0)}"# }
        var batch = lines[..<250].joined(separator: "\n") + "\n" + String(decoding: StreamKeepAlive.line, as: UTF8.self)
        batch += lines[250..<499].joined(separator: "\n") + "\n" + lines[499].prefix(9)
        let tail = String(lines[499].dropFirst(9)) + "\n"
        let peer = try OneShotPeer(pieces: [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            String(batch.utf8.count, radix: 16) + "\r\n" + batch + "\r\n",
            String(tail.utf8.count, radix: 16) + "\r\n" + tail + "\r\n",
            "0\r\n\r\n",
        ], bodyBytes: 2)
        var received: [String] = []
        try ControlClient(socketPath: peer.path, timeout: TestDeadline.answer).stream(.sync, body: Array("{}".utf8)) {
            received.append(String(decoding: $0, as: UTF8.self))
        }
        peer.finish()
        #expect(received == lines)
    }

    /// The error `ControlClient.call(.status)` throws for a peer answering `answer`; nil if it accepted it.
    func failure(answering answer: String, readsRequest: Bool = true) throws -> ClientError? {
        let peer = try OneShotPeer(pieces: answer.isEmpty ? [] : [answer], readsRequest: readsRequest)
        defer { peer.finish() }
        do {
            _ = try ControlClient(socketPath: peer.path, timeout: TestDeadline.answer).call(.status)
            return nil
        } catch {
            return error
        }
    }

    @Test func anAnswerCutShortIsAnErrorNotAShortBody() throws {
        let error = try failure(answering: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":")
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("closed the connection in the middle of its answer") == true, "\(error?.message ?? "accepted")")
    }

    @Test func anOversizedAnswerIsRefusedBeforeItIsRead() throws {
        let error = try failure(answering: "HTTP/1.1 200 OK\r\nContent-Length: \(64 << 20)\r\n\r\n")
        #expect(error?.kind == .failed)
        #expect(error?.message.contains("too large") == true, "\(error?.message ?? "accepted")")
    }

    @Test func garbageIsNotHTTP() throws {
        let error = try failure(answering: "SSH-2.0-OpenSSH_9.2\r\n\r\n")
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("not HTTP/1.1") == true, "\(error?.message ?? "accepted")")
    }

    /// aiosd closing a connection without a word (a reset after connect) is "busy" (exit 5), never "not running".
    @Test func aConnectionClosedWithoutAnAnswerIsBusyNotNotRunning() throws {
        let error = try failure(answering: "", readsRequest: false)
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("is busy: it accepted the connection and closed it without answering") == true, "\(error?.message ?? "accepted")")
    }

    /// aiosd's `busy` written before it read the request, then the close: the answer is read all the same.
    @Test func aBusyAnswerBeforeTheRequestWasReadIsStillRead() throws {
        let body = #"{"error":{"code":"busy","message":"aiosd has too many open control connections from this user; try again shortly"}}"#
        let error = try failure(answering: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body,
                                readsRequest: false)
        #expect(error?.kind == .busy)
        #expect(error?.message.contains("too many open control connections from this user") == true, "\(error?.message ?? "accepted")")
    }

    /// A socket file nobody listens on (ECONNREFUSED) and no socket file (ENOENT): "not running" (exit 3).
    @Test func nobodyListeningIsUnreachable() throws {
        let directory = try TemporaryDirectory(prefix: "aios-wire")
        defer { directory.remove() }
        let path = directory.file("stale.sock")
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try UnixSocket.withAddress(path) { address, length in
            guard bind(stale, address, length) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
        defer { close(stale) }
        for socketPath in [path, directory.file("missing.sock")] {
            do {
                _ = try ControlClient(socketPath: socketPath, timeout: .seconds(5)).call(.status)
                Issue.record("\(socketPath): answered")
            } catch {
                #expect(error.kind == .unreachable, "\(socketPath): \(error.message)")
            }
        }
    }

    @Test func anErrorAnswerIsDecodedFromItsBody() throws {
        let body = #"{"error":{"code":"permission_denied","message":"operator level required"}}"#
        let error = try failure(answering: "HTTP/1.1 403 Forbidden\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body)
        #expect(error?.kind == .permissionDenied)
        #expect(error?.message == "operator level required")
    }
}
