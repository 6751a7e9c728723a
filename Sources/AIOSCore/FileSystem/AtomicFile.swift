import Glibc

/// Writes a file so that a crash or power loss at any point leaves the old or the new content, never a torn
/// one: a temp file in the same directory, fsync, rename over the target, fsync the directory.
public enum AtomicFile {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(Error) {
        try write(bytes: Array(text.utf8), to: path, mode: mode)
    }

    public static func write(bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(Error) {
        try write(to: path, mode: mode) { output throws(Error) in try output(bytes) }
    }

    /// The same, for content written in parts: `produce` hands each part to the function it is given, in order,
    /// so a large file is never held whole. A part that cannot be written throws out of `produce`; the old file stays.
    public static func write(to path: String, mode: mode_t = 0o644,
                             _ produce: (_ output: ([UInt8]) throws(Error) -> Void) throws(Error) -> Void) throws(Error) {
        let directory = parent(of: path)
        let temporary = "\(directory)/.\(name(of: path)).aios-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("create \(temporary)") }
        var written = false
        defer {
            if !written { unlink(temporary) }
        }
        do {
            try produce { bytes throws(Error) in
                var offset = 0
                while offset < bytes.count {
                    let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw failure("write \(temporary)") }
                    offset += count
                }
            }
        } catch {
            close(fd)
            throw error
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            close(fd)
            throw failure("fsync \(temporary)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("rename \(temporary) to \(path)") }
        written = true
        try syncDirectory(directory)
    }

    /// Removes `path` durably; a missing file is not an error.
    public static func remove(_ path: String) throws(Error) {
        guard unlink(path) == 0 else {
            if errno == ENOENT { return }
            throw failure("remove \(path)")
        }
        try syncDirectory(parent(of: path))
    }

    public static func createDirectory(_ path: String, mode: mode_t = 0o755) throws(Error) {
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw failure("create directory \(path)") }
    }

    private static func syncDirectory(_ directory: String) throws(Error) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory \(directory)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory \(directory)") }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func name(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    private static func failure(_ what: String) -> Error {
        Error(description: "cannot \(what): \(String(cString: strerror(errno)))")
    }
}
