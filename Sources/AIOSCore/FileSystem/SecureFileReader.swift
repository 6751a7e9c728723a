import Glibc

/// Reads configuration and credential files the way DESIGN.md section 10 asks: without following a symlink
/// at the last component, only regular files, refusing group/world-writable files and files owned by someone
/// other than root or the user running aiosd.
public enum SecureFileReader {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Who may own the file and who else may touch it.
    public enum Access: Sendable {
        /// Owned by root (or aiosd's user), not writable by group or others: configuration.
        case configuration
        /// Owned by root (or aiosd's user), no access at all for group or others (0600 or stricter): credentials.
        case privateCredential
        /// Any owner and mode: files another service hands over (the Azure Arc agent's challenge key).
        case anyOwner
    }

    /// The file's text, or nil if it does not exist.
    public static func readIfPresent(path: String, maximumBytes: Int) throws(Error) -> String? {
        try readIfPresent(path: path, maximumBytes: maximumBytes, access: .configuration)
    }

    /// The file's text, or nil if it does not exist. With `followingSafeLink`, a symbolic link is followed (as K3s
    /// follows a symlinked config.yaml) when its target is a configuration file that passes the same checks.
    public static func readIfPresent(path: String, maximumBytes: Int, followingSafeLink: Bool) throws(Error) -> String? {
        var info = stat()
        guard followingSafeLink, lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else {
            return try readIfPresent(path: path, maximumBytes: maximumBytes, access: .configuration)
        }
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT { return nil }
            throw Error(description: "is a symbolic link that cannot be resolved: \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        let target = String(cString: resolved)
        do {
            return try readIfPresent(path: target, maximumBytes: maximumBytes, access: .configuration)
        } catch {
            throw Error(description: "is a symbolic link to \(target), which \(error.description)")
        }
    }

    /// The file's text, or nil if it does not exist, checked against `access`.
    public static func readIfPresent(path: String, maximumBytes: Int, access: Access) throws(Error) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            if code == ELOOP { throw Error(description: "is a symbolic link; aiosd does not follow links to its configuration") }
            throw Error(description: "cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Error(description: "cannot stat: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Error(description: "is not a regular file") }
        if access != .anyOwner {
            guard info.st_uid == 0 || info.st_uid == geteuid() else {
                throw Error(description: "is owned by uid \(info.st_uid), not by root; fix with: chown root: \(path)")
            }
        }
        switch access {
        case .configuration:
            guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
                throw Error(description: "is writable by group or others; fix with: chmod go-w \(path)")
            }
        case .privateCredential:
            guard info.st_mode & (S_IRWXG | S_IRWXO) == 0 else {
                throw Error(description: "is accessible by group or others; fix with: chmod 0600 \(path)")
            }
        case .anyOwner:
            break
        }
        guard Int(info.st_size) <= maximumBytes else {
            throw Error(description: "is larger than \(maximumBytes) bytes")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Error(description: "cannot read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumBytes else { throw Error(description: "is larger than \(maximumBytes) bytes") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Error(description: "is not valid UTF-8")
        }
        return text
    }
}
