import Foundation
import Glibc

/// A datagram socket posing as systemd's `NOTIFY_SOCKET`: collects sd_notify messages sent to it.
public final class NotifyListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        try UnixSocket.withAddress(path) { address, length in
            guard bind(fd, address, length) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
    }

    deinit { close(fd) }

    /// The next message (its `KEY=VALUE` lines), or nil if none arrives within `timeout`.
    public func receive(timeout: Duration) -> [String]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Collects messages until one contains `line` (e.g. `READY=1`); returns every message seen, in order.
    public func wait(for line: String, timeout: Duration) -> [[String]]? {
        let deadline = ContinuousClock.now + timeout
        var seen: [[String]] = []
        while ContinuousClock.now < deadline {
            guard let message = receive(timeout: deadline - ContinuousClock.now) else { break }
            seen.append(message)
            if message.contains(line) { return seen }
        }
        return nil
    }
}
