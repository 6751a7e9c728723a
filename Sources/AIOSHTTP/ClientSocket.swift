import Glibc

/// A connected, non-blocking stream socket (TCP or Unix) whose every wait ends at the request's deadline.
final class ClientSocket {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Connects to the first address of `host` that accepts, trying each in the order the resolver gives.
    static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) throws(HTTPClientError) -> ClientSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let list else {
            throw HTTPClientError(kind: .couldNotConnect, message: "could not resolve host \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            entry = address.pointee.ai_next
            switch connect(family: address.pointee.ai_family, address: address.pointee.ai_addr, length: address.pointee.ai_addrlen, deadline: deadline) {
            case .success(let socket):
                return socket
            case .failure(let error):
                if error.timedOut { throw HTTPClientError(kind: .timedOut, message: "connecting to \(host) port \(port) timed out") }
                lastError = error.errno
            }
        }
        throw HTTPClientError(kind: .couldNotConnect, message: "could not connect to \(host) port \(port): \(String(cString: strerror(lastError)))")
    }

    /// Connects to the Unix socket at `path`.
    static func connect(unixPath path: String, deadline: ContinuousClock.Instant) throws(HTTPClientError) -> ClientSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            throw HTTPClientError(kind: .couldNotConnect, message: "the socket path \(path) is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(family: AF_UNIX, address: $0, length: socklen_t(MemoryLayout<sockaddr_un>.size), deadline: deadline)
            }
        }
        switch result {
        case .success(let socket):
            return socket
        case .failure(let error):
            if error.timedOut { throw HTTPClientError(kind: .timedOut, message: "connecting to \(path) timed out") }
            throw HTTPClientError(kind: .couldNotConnect, message: "could not connect to \(path): \(String(cString: strerror(error.errno)))")
        }
    }

    private struct ConnectFailure: Error {
        var errno: Int32
        var timedOut = false
    }

    private static func connect(family: Int32, address: UnsafePointer<sockaddr>, length: socklen_t,
                                deadline: ContinuousClock.Instant) -> Result<ClientSocket, ConnectFailure> {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(ConnectFailure(errno: errno)) }
        let socket = ClientSocket(descriptor: descriptor)
        if family != AF_UNIX {
            // Requests are written whole and answers awaited: Nagle's delay would only add latency.
            var one: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        if Glibc.connect(descriptor, address, length) == 0 { return .success(socket) }
        guard errno == EINPROGRESS || errno == EAGAIN else { return .failure(ConnectFailure(errno: errno)) }
        guard socket.wait(for: Int16(POLLOUT), until: deadline) else { return .failure(ConnectFailure(errno: ETIMEDOUT, timedOut: true)) }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return .failure(ConnectFailure(errno: errno)) }
        guard error == 0 else { return .failure(ConnectFailure(errno: error)) }
        return .success(socket)
    }

    /// Waits until the socket is ready for `events`; false when the deadline came first.
    func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return true }  // the next read or write reports the error
        }
    }

    /// True when the idle connection has nothing to read and is not closed: a kept connection the server closed
    /// (or that holds bytes nobody asked for) must not carry the next request.
    var isIdleAndOpen: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Reads what has arrived, waiting for it until `deadline`; 0 at EOF.
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN: guard wait(for: Int16(POLLIN), until: deadline) else { throw HTTPClientError.timedOut }
            default: throw HTTPClientError(kind: .transport, message: "reading from the server failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Writes all of `bytes`, waiting for room until `deadline`.
    func write(_ bytes: UnsafeRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let count = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count >= 0 {
                offset += count
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: guard wait(for: Int16(POLLOUT), until: deadline) else { throw HTTPClientError.timedOut }
            default: throw HTTPClientError(kind: .transport, message: "sending to the server failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}

extension HTTPClientError {
    static let timedOut = HTTPClientError(kind: .timedOut, message: "the request timed out")
}
