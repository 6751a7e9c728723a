import Glibc

/// The host's file system for the K3s change workflow. Configuration is read as DESIGN.md section 10 asks
/// (regular, root-owned, not group/world-writable files); a symlinked file is followed, as K3s does, only when its
/// target passes the same checks.
public struct LocalK3sFiles: K3sFileAccess {
    public init() {}

    public func read(_ path: String) throws(K3sChangeError) -> String? {
        do {
            return try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20, followingSafeLink: true)
        } catch {
            throw K3sChangeError(.invalidConfiguration, "cannot read \(path): \(error)")
        }
    }

    public func list(_ directory: String) -> [String] {
        // stat, not lstat: K3s reads a symlinked drop-in too; read() checks where it leads.
        DirectoryEntries.names(in: directory).filter { DirectoryEntries.isRegularFile(directory + "/" + $0) }
    }

    public func write(_ text: String, to path: String) throws(K3sChangeError) {
        do {
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                try AtomicFile.createDirectory(String(path[..<slash]))
            }
            try AtomicFile.write(text, to: path, mode: 0o600)
        } catch {
            throw K3sChangeError(.failed, "cannot write \(path): \(error)", hint: Self.hint(for: path))
        }
    }

    public func remove(_ path: String) throws(K3sChangeError) {
        do {
            try AtomicFile.remove(path)
        } catch {
            throw K3sChangeError(.failed, "cannot remove \(path): \(error)", hint: Self.hint(for: path))
        }
    }

    public func unwritableReason(_ directory: String) -> String? {
        var existing = directory
        var info = stat()
        while stat(existing, &info) != 0 {
            guard let slash = existing.lastIndex(of: "/"), slash != existing.startIndex else { existing = "/"; break }
            existing = String(existing[..<slash])
        }
        guard access(existing, W_OK) != 0 else { return nil }
        let code = errno
        if code == EROFS { return "\(existing) is read-only for aiosd (its sandbox, ProtectSystem=strict)" }
        return "\(existing): \(String(cString: strerror(code)))"
    }

    private static func hint(for path: String) -> String {
        "aiosd.service may write only below /etc/rancher/k3s and /var/lib/aiosd (ReadWritePaths=); check: systemctl cat aiosd.service"
    }
}
