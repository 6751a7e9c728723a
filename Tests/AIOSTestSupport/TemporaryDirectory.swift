import Foundation
import Glibc

/// A fresh directory under /tmp, removed by `remove()`. Short paths keep sockets under the 107-byte limit.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "aios") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: result)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `name` (0644) and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let path = file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode_t(mode))
        return path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
