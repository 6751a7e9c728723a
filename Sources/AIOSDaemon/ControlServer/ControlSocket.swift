import Glibc
import Logging

/// The control socket when aiosd binds it itself (no socket activation): never replace a live socket,
/// remove a stale one, create it 0660 root:<socketGroup> with no window where it is looser.
struct ControlSocket {
    struct Error: Swift.Error, CustomStringConvertible {
        let description: String
    }

    let path: String

    /// Clears the way for bind: fails if another process listens on `path` or it is not a socket.
    func prepare() throws {
        var info = stat()
        if lstat(path, &info) != 0 {
            guard errno == ENOENT else { throw Error(description: "cannot inspect \(path): \(String(cString: strerror(errno)))") }
            try createParentDirectory()
            return
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw Error(description: "\(path) exists and is not a socket; refusing to replace it")
        }
        if Self.isLive(path) {
            throw Error(description: "another process is listening on \(path) (is aiosd already running? see: systemctl status aiosd)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw Error(description: "cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Sets owner group and mode after bind. A missing group leaves the socket usable by root only.
    func restrict(group: String, logger: Logger) {
        chmod(path, 0o660)
        guard let gid = Authorizer.groupID(named: group) else {
            logger.warning("Socket group does not exist; control socket is usable by root only", metadata: ["socket.group": "\(group)"])
            return
        }
        if chown(path, uid_t.max, gid) != 0 {
            logger.warning("Cannot set the control socket's group", metadata: [
                "socket.group": "\(group)", "error": "\(String(cString: strerror(errno)))",
            ])
        }
    }

    /// The inode of the socket file, to remove it on shutdown only if it is still ours.
    func inode() -> ino_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_ino : nil
    }

    func remove(ifInode expected: ino_t?) {
        guard let expected, inode() == expected else { return }
        unlink(path)
    }

    private func createParentDirectory() throws {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = String(path[..<slash])
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw Error(description: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
    }

    /// A connect that succeeds means someone is serving the socket.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }
}
