import Glibc
import Synchronization

/// Parsed definition files by path, reused while a file's identity (inode, size, times, owner, mode) has not
/// changed: at 10,000 definitions, reading and parsing every file at every cycle and heartbeat cost about a second
/// of CPU each time. A file changed within the last two seconds is not cached (as git's "racy" index entries):
/// a second edit within the file system's timestamp granularity could otherwise leave identical times and size.
final class SyncDefinitionCache: Sendable {
    static let shared = SyncDefinitionCache()

    struct Identity: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, mode: UInt32, owner: UInt32
        var modified: timespec, changed: timespec
        var defaultNamespace: String

        static func == (a: Identity, b: Identity) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size && a.mode == b.mode && a.owner == b.owner
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec && a.defaultNamespace == b.defaultNamespace
        }
    }

    private struct Entry { var identity: Identity; var definition: SyncDefinition }
    private let entries = Mutex<[String: Entry]>([:])
    /// How long after its last change a file is cached (tests use 0).
    let settleSeconds: Int

    init(settleSeconds: Int = 2) { self.settleSeconds = settleSeconds }

    /// The file's identity (not following a link: the reader refuses links), nil if it cannot be examined.
    func identity(of path: String, defaultNamespace: String) -> (identity: Identity, settled: Bool)? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), mode: UInt32(info.st_mode),
                                owner: UInt32(info.st_uid), modified: info.st_mtim, changed: info.st_ctim, defaultNamespace: defaultNamespace)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let latest = max(info.st_mtim.tv_sec, info.st_ctim.tv_sec)
        return (identity, now.tv_sec - latest >= settleSeconds)
    }

    func definition(at path: String, identity: Identity) -> SyncDefinition? {
        entries.withLock { $0[path] }.flatMap { $0.identity == identity ? $0.definition : nil }
    }

    func store(_ definition: SyncDefinition, at path: String, identity: Identity) {
        entries.withLock { $0[path] = Entry(identity: identity, definition: definition) }
    }

    /// Forgets the files of `directory` that are not in `present` (removed files free their entries).
    func keep(only present: Set<String>, in directory: String) {
        let prefix = directory + "/"
        entries.withLock { entries in
            for path in entries.keys where path.hasPrefix(prefix) && !present.contains(path) { entries[path] = nil }
        }
    }
}
