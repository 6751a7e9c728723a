@testable import AIOSHTTP
import Testing

/// aiosd's own reading of HTTP/1.x answers: every framing, split at every byte, and every malformed answer refused
/// with a message that says what was wrong.
@Suite struct HTTP1ResponseParserTests {
    struct Read: Equatable {
        var status: Int
        var body: String
        var keepAlive: Bool
        /// How many of the bytes belonged to the response.
        var consumed: Int
    }

    /// Feeds `text` in pieces of `size` bytes, as reads deliver them; EOF after the last if the response is not done.
    static func read(_ text: String, pieces size: Int = .max) throws -> (Read, [(name: String, value: String)]) {
        let bytes = Array(text.utf8)
        var parser = HTTP1ResponseParser()
        var body: [UInt8] = []
        var offset = 0
        while offset < bytes.count, !parser.isComplete {
            let piece = bytes[offset..<min(bytes.count, offset + size)]
            offset += try piece.withUnsafeBytes { try parser.consume($0) { body += $0 } }
        }
        if !parser.isComplete { try parser.endOfStream() }
        return (Read(status: parser.status, body: String(decoding: body, as: UTF8.self), keepAlive: parser.keepAlive, consumed: offset), parser.headers)
    }

    static func failure(_ text: String) -> String? {
        do {
            _ = try read(text)
            return nil
        } catch {
            return (error as? HTTP1ResponseParser.Failure)?.message ?? "\(error)"
        }
    }

    static let chunked = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nX-Folded: a\r\n\tb\r\n\r\n"
        + "5;name=value\r\nhello\r\n1A\r\n abcdefghijklmnopqrstuvwxy\r\n0\r\nX-Trailer: t\r\n\r\n"

    @Test func everyFramingReadsTheSameWhereverTheBytesAreCut() throws {
        let answers: [(String, Read)] = [
            (Self.chunked, Read(status: 200, body: "hello abcdefghijklmnopqrstuvwxy", keepAlive: true, consumed: Self.chunked.utf8.count)),
            ("HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nbodyHTTP/1.1 200", Read(status: 201, body: "body", keepAlive: true, consumed: 47)),
            ("HTTP/1.0 200 OK\nContent-Length: 2, 2\nConnection: keep-alive\n\nok", Read(status: 200, body: "ok", keepAlive: true, consumed: 63)),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", Read(status: 200, body: "until the end", keepAlive: false, consumed: 51)),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", Read(status: 200, body: "raw", keepAlive: false, consumed: 47)),
            ("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", Read(status: 204, body: "", keepAlive: true, consumed: 46)),
            ("HTTP/1.0 404 Not Found\r\n\r\nnope", Read(status: 404, body: "nope", keepAlive: false, consumed: 30)),
            ("HTTP/1.1 410 Gone\r\nContent-Length: 0\r\nConnection: Keep-Alive, Close\r\n\r\n", Read(status: 410, body: "", keepAlive: false, consumed: 71)),
        ]
        for (text, expected) in answers {
            for size in 1...text.utf8.count {
                let (read, _) = try Self.read(text, pieces: size)
                #expect(read == expected, "\(text.debugDescription) in pieces of \(size)")
            }
        }
        let (_, headers) = try Self.read(Self.chunked, pieces: 3)
        #expect(headers.map(\.name) == ["Transfer-Encoding", "X-Folded"], "only the final response's headers; trailers are not headers")
        #expect(headers.last?.value == "a b", "a folded value is joined with one space")
    }

    @Test func malformedAnswersAreRefusedWithWhatWasWrong() {
        let notHTTP = "the server's answer is not an HTTP/1.x response"
        let cases: [(String, String)] = [
            ("SSH-2.0-OpenSSH_9.2\r\n\r\n", notHTTP),
            ("HTTP/2 200\r\n\r\n", notHTTP),
            ("HTTP/1.1 20 OK\r\n\r\n", notHTTP),
            ("HTTP/1.1 200OK\r\n\r\n", notHTTP),
            ("HTTP/1.1 099 Odd\r\n\r\n", "the response has an invalid status code"),
            ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "the server switched protocols (101), which aiosd never asks for"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "the response has an invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", "the response has an invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "the response has an invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "the response has an invalid Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "the response has an invalid chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", "the response has an invalid chunk size"),
            // Found by the fuzzer: a signed size was taken (-10) and trapped.
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-A\r\n", "the response has an invalid chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", "the response has an invalid chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "a chunk of the response does not end where its size says"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "0", count: 9000), "a chunk-size or trailer line of the response is too long"),
            (" folded\r\n\r\n", notHTTP),
            ("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "the response's headers start with a continuation line"),
            ("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: 110_000), "the response's status line and headers exceed 102400 bytes"),
            ("", "the server closed the connection without answering"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "the server closed the connection before the response ended"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "the server closed the connection before the response ended"),
            ("HTTP/1.1 200 OK\r\nContent-Le", "the server closed the connection before the response ended"),
        ]
        for (text, message) in cases {
            #expect(Self.failure(text) == message, "\(text.prefix(80).debugDescription)")
        }
    }

    @Test func urlsAreSplitIntoHostPortAndPathAndBadOnesRefused() throws {
        func parts(_ url: String) throws -> String {
            let target = try RequestTarget(url: url)
            return "\(target.secure ? "tls" : "plain") \(target.host) \(target.port) \(target.hostHeader) \(target.path)"
        }
        #expect(try parts("https://kv.vault.azure.net:8443/secrets/a?api-version=7.4#fragment")
            == "tls kv.vault.azure.net 8443 kv.vault.azure.net:8443 /secrets/a?api-version=7.4")
        #expect(try parts("HTTPS://api.example") == "tls api.example 443 api.example /")
        #expect(try parts("http://169.254.169.254/metadata?x=1") == "plain 169.254.169.254 80 169.254.169.254 /metadata?x=1")
        #expect(try parts("https://[fd00::1]:6443?watch=1") == "tls fd00::1 6443 [fd00::1]:6443 /?watch=1")
        #expect(try RequestTarget(url: "http://localhost:80/a").hostHeader == "localhost", "the default port is not written")
        for bad in ["ftp://h/", "h/path", "http://user:pw@h/", "http://h:0/", "http://h:65536/", "http://h:/", "http://h:8a/", "http://h/a b",
                    "http://h/\r\nX-Injected: 1", "http://[::1/", "http://[::1]x/", "http://:80/", "https:///path"] {
            #expect(throws: HTTPClientError.self, "\(bad.debugDescription)") { try RequestTarget(url: bad) }
        }
    }

    @Test func requestHeadsKeepLibcurlsDefaultsAndRefuseInjectedLines() throws {
        let target = try RequestTarget(url: "https://api.example:6443/api/v1/secrets?limit=500")
        let get = HTTPRequest(method: .get, url: "", headers: [("Authorization", "Bearer t"), ("X-Empty", "")])
        #expect(try String(decoding: HTTP1Channel.head(of: get, target: target), as: UTF8.self)
            == "GET /api/v1/secrets?limit=500 HTTP/1.1\r\nHost: api.example:6443\r\nAuthorization: Bearer t\r\nAccept: */*\r\n\r\n")
        let patch = HTTPRequest(method: .patch, url: "", headers: [("Accept", "application/json"), ("Content-Length", "1")], body: Array("{}".utf8))
        #expect(try String(decoding: HTTP1Channel.head(of: patch, target: target), as: UTF8.self)
            == "PATCH /api/v1/secrets?limit=500 HTTP/1.1\r\nHost: api.example:6443\r\nAccept: application/json\r\nContent-Length: 2\r\n\r\n")
        let emptyPost = HTTPRequest(method: .post, url: "")
        #expect(try String(decoding: HTTP1Channel.head(of: emptyPost, target: target), as: UTF8.self).hasSuffix("Content-Length: 0\r\n\r\n"))
        for header in [("X-A", "v\r\nX-Injected: 1"), ("X-A\n", "v"), ("X:A", "v"), ("", "v"), ("X-A", "v\u{0}")] {
            let request = HTTPRequest(method: .get, url: "", headers: [header])
            #expect(throws: HTTPClientError.self, "\(header)") { try HTTP1Channel.head(of: request, target: target) }
        }
    }

    @Test func onlyProxiedRequestsGoThroughLibcurl() {
        let proxied = HTTPConnection(systemTrust: .shared, environment: { $0 == "HTTPS_PROXY" ? "http://proxy.corp:3128" : nil })
        let direct = HTTPConnection(systemTrust: .shared, environment: { $0 == "no_proxy" ? "*" : ($0 == "http_proxy" ? "" : nil) })
        let follows = HTTPRequest(method: .get, url: "https://127.0.0.1:6443/")
        #expect(proxied.goesThroughProxy(follows), "a request that follows the environment, with a proxy there")
        #expect(!direct.goesThroughProxy(follows), "no proxy variable set (an empty one is none)")
        #expect(!proxied.goesThroughProxy(HTTPRequest(method: .get, url: "http://169.254.169.254/", bypassesProxy: true)))
        #expect(!proxied.goesThroughProxy(HTTPRequest(method: .get, url: "http://aiosd/v1/status", unixSocketPath: "/run/aiosd.sock")))
        let outbound = HTTPRequest(method: .get, url: "https://kv.vault.azure.net/", usesOutboundProxy: true)
        #expect(!proxied.goesThroughProxy(outbound), "network.proxy unset: direct, whatever the environment says")
        // With network.proxy set: HTTPConnectionTests.theConfiguredProxyCarriesOnlyTheRequestsThatAskForIt (the
        // proxy setting is process-wide, and that test is the one that sets it).
    }
}
