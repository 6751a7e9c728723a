/// Reads one HTTP/1.x response as its bytes arrive: the status line and headers (interim 1xx responses skipped),
/// then the body as its framing says (RFC 9112 section 6): chunked, Content-Length, or until the connection
/// closes. Pure: no I/O, so every malformed answer can be fed to it in tests and the fuzzer.
struct HTTP1ResponseParser {
    struct Failure: Error, Equatable {
        let message: String
    }

    /// The most bytes of a status line and headers together, as libcurl's CURL_MAX_HTTP_HEADER allows per header.
    static let maximumHeadBytes = 100 << 10
    /// The longest chunk-size line or trailer line.
    static let maximumLineBytes = 8 << 10

    private enum Framing { case length(Int), chunked, untilClose, none }
    private enum State { case head, body(remaining: Int), chunkSize, chunkData(remaining: Int), chunkDataEnd, trailers, untilClose, done }

    private var state = State.head
    private var line: [UInt8] = []
    private var head: [UInt8] = []
    private(set) var status = 0
    private(set) var headers: [(name: String, value: String)] = []
    /// The connection may carry another request after this response.
    private(set) var keepAlive = true
    /// Response bytes have arrived (a kept connection that the server had closed yields none).
    private(set) var receivedAny = false

    var isComplete: Bool { if case .done = state { true } else { false } }

    /// Consumes bytes up to the end of the response and hands the body's bytes to `body`. Returns how many of
    /// `bytes` were consumed: fewer than given only when the response ended inside them.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        if !bytes.isEmpty { receivedAny = true }
        var index = 0
        while index < bytes.count {
            switch state {
            case .done:
                return index
            case .head:
                let byte = bytes[index]
                index += 1
                head.append(byte)
                guard head.count <= Self.maximumHeadBytes else {
                    throw Failure(message: "the response's status line and headers exceed \(Self.maximumHeadBytes) bytes")
                }
                if byte == UInt8(ascii: "\n"), head.count >= 2,
                   head[head.count - 2] == UInt8(ascii: "\n") || (head.count >= 3 && head[head.count - 2] == UInt8(ascii: "\r") && head[head.count - 3] == UInt8(ascii: "\n")) {
                    try finishHead()
                }
            case .body(let remaining):
                let count = min(remaining, bytes.count - index)
                try body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]))
                index += count
                state = remaining == count ? .done : .body(remaining: remaining - count)
            case .untilClose:
                try body(UnsafeRawBufferPointer(rebasing: bytes[index...]))
                index = bytes.count
            case .chunkData(let remaining):
                let count = min(remaining, bytes.count - index)
                try body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)]))
                index += count
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkSize, .chunkDataEnd, .trailers:
                let byte = bytes[index]
                index += 1
                guard byte == UInt8(ascii: "\n") else {
                    line.append(byte)
                    guard line.count <= Self.maximumLineBytes else { throw Failure(message: "a chunk-size or trailer line of the response is too long") }
                    continue
                }
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                try finishLine()
                line.removeAll(keepingCapacity: true)
            }
        }
        return index
    }

    /// The connection reached EOF: the end of a body read until close; anything else was cut off.
    mutating func endOfStream() throws {
        switch state {
        case .done: return
        case .untilClose: state = .done
        case .head where !receivedAny: throw Failure(message: "the server closed the connection without answering")
        default: throw Failure(message: "the server closed the connection before the response ended")
        }
    }

    private mutating func finishLine() throws {
        switch state {
        case .chunkSize:
            // chunk-size [; extensions]: the extensions are ignored.
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            // Hex digits only: Int(_:radix:) would also take a sign ("-A" is -10).
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(Self.isHexDigit),
                  let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw Failure(message: "the response has an invalid chunk size")
            }
            state = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard line.isEmpty else { throw Failure(message: "a chunk of the response does not end where its size says") }
            state = .chunkSize
        case .trailers:
            if line.isEmpty { state = .done }
        default:
            break
        }
    }

    private mutating func finishHead() throws {
        defer { head.removeAll(keepingCapacity: false) }
        var lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0 }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let statusLine = lines.first else { throw Failure(message: "the response has no status line") }
        let (version, code) = try Self.statusLine(statusLine)
        if (100..<200).contains(code) {
            // An interim response (100 Continue, 103 Early Hints): the final one follows on the same connection.
            guard code != 101 else { throw Failure(message: "the server switched protocols (101), which aiosd never asks for") }
            return
        }
        status = code
        headers = []
        var contentLength: Int?
        var transferEncoding: [UInt8]?
        var connectionTokens: [String] = []
        for raw in lines.dropFirst() {
            if let first = raw.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                // obs-fold: a continuation of the previous header's value.
                guard let last = headers.popLast() else { throw Failure(message: "the response's headers start with a continuation line") }
                headers.append((last.name, last.value + " " + Self.trimmed(raw)))
                continue
            }
            guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = Self.trimmed(raw[raw.startIndex..<colon])
            guard !name.isEmpty else { continue }
            let value = Self.trimmed(raw[(colon + 1)...])
            headers.append((name, value))
            if name.caseInsensitiveEquals("Content-Length") {
                for part in value.split(separator: ",") {
                    let text = part.trimmingSpaces
                    guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ (48...57).contains($0) }), let length = Int(text),
                          contentLength == nil || contentLength == length else {
                        throw Failure(message: "the response has an invalid Content-Length")
                    }
                    contentLength = length
                }
            } else if name.caseInsensitiveEquals("Transfer-Encoding") {
                transferEncoding = (transferEncoding.map { $0 + [UInt8(ascii: ",")] } ?? []) + Array(value.utf8)
            } else if name.caseInsensitiveEquals("Connection") {
                connectionTokens += value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            }
        }
        keepAlive = version >= 1 ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
        let framing: Framing
        if code == 204 || code == 304 {
            framing = .none
        } else if let transferEncoding {
            // Chunked only when it is the last coding; otherwise the body runs until the connection closes.
            let last = String(decoding: transferEncoding, as: UTF8.self).split(separator: ",").last?.trimmingSpaces.lowercased()
            framing = last == "chunked" ? .chunked : .untilClose
            if contentLength != nil { keepAlive = false }
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .untilClose
        }
        switch framing {
        case .none: state = .done
        case .length(let count): state = .body(remaining: count)
        case .chunked: state = .chunkSize
        case .untilClose:
            state = .untilClose
            keepAlive = false
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    /// `HTTP/1.x SSS[ reason]`: the minor version and the status code.
    private static func statusLine(_ line: ArraySlice<UInt8>) throws -> (minor: Int, code: Int) {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)), (48...57).contains(bytes[7]), bytes[8] == UInt8(ascii: " "),
              bytes[9...11].allSatisfy({ (48...57).contains($0) }), bytes.count == 12 || bytes[12] == UInt8(ascii: " ") else {
            throw Failure(message: "the server's answer is not an HTTP/1.x response")
        }
        let code = Int(bytes[9] - 48) * 100 + Int(bytes[10] - 48) * 10 + Int(bytes[11] - 48)
        guard code >= 100 else { throw Failure(message: "the response has an invalid status code") }
        return (Int(bytes[7] - 48), code)
    }

    /// The bytes without leading and trailing spaces and tabs, as text.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var lower = bytes.startIndex, upper = bytes.endIndex
        while lower < upper, bytes[lower] == UInt8(ascii: " ") || bytes[lower] == UInt8(ascii: "\t") { lower += 1 }
        while upper > lower, bytes[upper - 1] == UInt8(ascii: " ") || bytes[upper - 1] == UInt8(ascii: "\t") { upper -= 1 }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
