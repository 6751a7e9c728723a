import AIOSAPI
import Glibc

/// One HTTP/1.1 request and its response over aiosd's Unix socket, with plain system calls. aiosctl sends one
/// request per process to a server it knows (aiosd: `Content-Length` or chunked bodies, no TLS, no redirects), so
/// it does not need libcurl, whose ~35 shared libraries cost more to load than the whole exchange
/// (DESIGN.md section 9: `aiosctl status` at most 1.3x `curl --unix-socket`).
struct UnixSocketExchange {
    enum Failure: Error {
        /// Nobody listens on the socket, or it cannot be opened.
        case couldNotConnect(String)
        /// No complete answer before the deadline.
        case timedOut
        /// aiosd accepted the connection and closed it (or reset it) without a word: it refuses connections past
        /// its limits that way when it cannot even wait for the request, or it is stopping.
        case closedWithoutAnswer
        /// The connection broke or the answer is not HTTP.
        case transport(String)
        /// The body passed `maximumResponseBytes`.
        case responseTooLarge
    }

    let socketPath: String
    let timeout: Duration
    /// A hostile or broken peer cannot grow aiosctl's memory past this.
    var maximumResponseBytes = 16 << 20

    /// Sends `method path` with `headers` and `body`, then hands each piece of the response body to `onData` as it
    /// arrives. Returns the HTTP status.
    func send(method: String, path: String, headers: [(name: String, value: String)], body: [UInt8]?,
              onData: ([UInt8]) -> Void) throws(Failure) -> Int {
        let deadline = ContinuousClock.now + timeout
        let descriptor = try connect()
        defer { close(descriptor) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(Defaults.hostHeader)\r\nConnection: close\r\n"
        for header in headers { request += "\(header.name): \(header.value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        do {
            try write(Array(request.utf8) + (body ?? []), to: descriptor, before: deadline)
        } catch .closedWithoutAnswer {
            // aiosd closed before reading the request; what it said first (e.g. `busy`) is still there to read.
        }

        var reader = ResponseReader(maximumBodyBytes: maximumResponseBytes)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            try wait(for: Int16(POLLIN), on: descriptor, before: deadline)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                // A reset comes after what aiosd wrote before it closed without reading the request.
                guard errno == ECONNRESET else { throw .transport(String(cString: strerror(errno))) }
            }
            if count <= 0 {
                guard let status = try reader.finish() else { throw .closedWithoutAnswer }
                return status
            }
            try reader.consume(buffer[..<count], onData: onData)
            if let status = reader.completeStatus {
                awaitClose(descriptor, buffer: &buffer, before: deadline)
                return status
            }
        }
    }

    /// The answer is complete and aiosd closes the connection next (`Connection: close`). Waiting for that end
    /// means aiosd has let go of the connection, and its per-user share is free, once a call returns; a server
    /// slower than the deadline to close is not an error (the answer is already in).
    private func awaitClose(_ descriptor: Int32, buffer: inout [UInt8], before deadline: ContinuousClock.Instant) {
        while true {
            do { try wait(for: Int16(POLLIN), on: descriptor, before: deadline) } catch { return }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count <= 0 { return }
        }
    }

    private func connect() throws(Failure) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .couldNotConnect("socket path longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .couldNotConnect(String(cString: strerror(errno))) }
        // A full listen backlog blocks connect(2) on a Unix socket; SO_SNDTIMEO bounds that wait.
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let failure: Failure = errno == EAGAIN || errno == EINPROGRESS ? .timedOut : .couldNotConnect(String(cString: strerror(errno)))
            close(descriptor)
            throw failure
        }
        return descriptor
    }

    private func write(_ bytes: [UInt8], to descriptor: Int32, before deadline: ContinuousClock.Instant) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), on: descriptor, before: deadline)
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .closedWithoutAnswer }
                throw .transport(String(cString: strerror(errno)))
            }
            offset += count
        }
    }

    private func wait(for events: Int16, on descriptor: Int32, before deadline: ContinuousClock.Instant) throws(Failure) {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw .timedOut }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
            let ready = poll(&entry, 1, Int32(min(milliseconds, Int64(Int32.max))))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .transport(String(cString: strerror(errno))) }
        }
    }
}

/// Parses one HTTP/1.1 response as its bytes arrive: status line, headers, then a body framed by
/// `Content-Length`, by chunks, or by the end of the connection.
struct ResponseReader {
    enum Framing { case length(Int), chunked, untilClose }

    let maximumBodyBytes: Int
    private var pending: [UInt8] = []
    private(set) var status: Int?
    private var framing: Framing?
    private var bodyBytes = 0
    /// In chunked framing: bytes left in the current chunk, nil while a chunk-size line is expected.
    private var chunkLeft: Int?
    private var done = false

    init(maximumBodyBytes: Int) { self.maximumBodyBytes = maximumBodyBytes }

    /// The status once the whole response has arrived (the connection may stay open a moment longer).
    var completeStatus: Int? { done ? status : nil }

    mutating func consume(_ bytes: ArraySlice<UInt8>, onData: ([UInt8]) -> Void) throws(UnixSocketExchange.Failure) {
        pending.append(contentsOf: bytes)
        if status == nil {
            guard let end = Self.find([13, 10, 13, 10], in: pending) else {
                guard pending.count <= 64 << 10 else { throw .transport("aiosd's response headers are too large") }
                return
            }
            try parseHead(Array(pending[..<end]))
            pending.removeSubrange(..<(end + 4))
        }
        try drainBody(onData: onData)
    }

    /// At the end of the connection: the status if the response was complete (or framed by the end), else an error.
    mutating func finish() throws(UnixSocketExchange.Failure) -> Int? {
        guard let status else { return nil }
        if case .untilClose = framing { return status }
        guard done else { throw .transport("aiosd closed the connection in the middle of its answer") }
        return status
    }

    private mutating func parseHead(_ head: [UInt8]) throws(UnixSocketExchange.Failure) {
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let code = Int(statusParts[1]) else {
            throw .transport("aiosd's answer is not HTTP/1.1")
        }
        var framing = Framing.untilClose
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            if name == "transfer-encoding", value.lowercased().contains("chunked") {
                framing = .chunked
            } else if name == "content-length", case .untilClose = framing {
                guard let length = Int(value), length >= 0 else { throw .transport("aiosd sent an invalid Content-Length") }
                guard length <= maximumBodyBytes else { throw .responseTooLarge }
                framing = .length(length)
            }
        }
        status = code
        self.framing = framing
        if case .length(0) = framing { done = true }
    }

    private mutating func drainBody(onData: ([UInt8]) -> Void) throws(UnixSocketExchange.Failure) {
        switch framing {
        case .length(let length)?:
            let take = min(pending.count, length - bodyBytes)
            if take > 0 { try deliver(Array(pending[..<take]), onData) }
            pending.removeAll(keepingCapacity: true)
            if bodyBytes == length { done = true }
        case .untilClose?:
            if !pending.isEmpty { try deliver(pending, onData) }
            pending.removeAll(keepingCapacity: true)
        case .chunked?:
            while !done {
                if let left = chunkLeft {
                    if left == 0 {
                        // The CRLF after a chunk's data.
                        guard pending.count >= 2 else { return }
                        pending.removeSubrange(..<2)
                        chunkLeft = nil
                        continue
                    }
                    guard !pending.isEmpty else { return }
                    let take = min(left, pending.count)
                    try deliver(Array(pending[..<take]), onData)
                    pending.removeSubrange(..<take)
                    chunkLeft = left - take
                } else {
                    guard let end = Self.find([13, 10], in: pending) else { return }
                    let line = String(decoding: pending[..<end], as: UTF8.self)
                    guard let size = Int(line.split(separator: ";").first.map(String.init) ?? "", radix: 16), size >= 0 else {
                        throw .transport("aiosd sent an invalid chunk")
                    }
                    pending.removeSubrange(..<(end + 2))
                    if size == 0 { done = true } else { chunkLeft = size }
                }
            }
        case nil:
            break
        }
    }

    private mutating func deliver(_ bytes: [UInt8], _ onData: ([UInt8]) -> Void) throws(UnixSocketExchange.Failure) {
        bodyBytes += bytes.count
        guard bodyBytes <= maximumBodyBytes else { throw .responseTooLarge }
        onData(bytes)
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
