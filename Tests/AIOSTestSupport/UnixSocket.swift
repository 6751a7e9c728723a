import Foundation
import Glibc

/// A raw Unix stream socket client, for tests that must misbehave on the wire (garbage, stalls).
public final class UnixSocket: @unchecked Sendable {
    public let fd: Int32

    public init(connectingTo path: String) throws {
        // `fd` is set only once connected: the descriptor is then closed exactly once, by deinit (a second close
        // could hit a number another thread, e.g. a parallel test's event loop, has just been given).
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        try Self.withAddress(path) { address, length in
            guard connect(descriptor, address, length) == 0 else {
                let code = errno
                close(descriptor)
                throw POSIXError(.init(rawValue: code) ?? .EIO)
            }
        }
        fd = descriptor
    }

    deinit { close(fd) }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
            offset += written
        }
    }

    /// Reads until the peer closes or `timeout` passes; returns what arrived and whether the peer closed.
    public func readAll(timeout: Duration) -> (text: String, closed: Bool) {
        let (received, closed) = read(until: ContinuousClock.now + timeout) { _ in false }
        return (String(decoding: received, as: UTF8.self), closed)
    }

    /// Reads one HTTP response with a Content-Length (and no more), or what arrived before `timeout`.
    public func readResponse(timeout: Duration) -> String {
        let (received, _) = read(until: ContinuousClock.now + timeout) { received in
            let text = String(decoding: received, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return false }
            let length = text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            return text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound) + length <= received.count
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads until `complete` says so, the peer closes (closed: true) or `deadline` passes.
    private func read(until deadline: ContinuousClock.Instant, complete: ([UInt8]) -> Bool) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        while ContinuousClock.now < deadline, !complete(received) {
            let left = deadline - ContinuousClock.now
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = max(1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&poller, 1, milliseconds) == 1 else { break }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received.append(contentsOf: buffer[0..<count])
        }
        return (received, false)
    }

    public static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

/// A listening Unix stream socket, as systemd creates it for aiosd.socket; the fd is inheritable.
public func makeListeningSocket(path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    try UnixSocket.withAddress(path) { address, length in
        guard bind(fd, address, length) == 0, listen(fd, 16) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }
    return fd
}
