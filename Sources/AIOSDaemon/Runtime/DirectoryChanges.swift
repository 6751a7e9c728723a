import Glibc
import Synchronization

/// Tells whether anything in one directory may have changed since the last look, with no thread and no wakeup:
/// the kernel queues inotify events on a non-blocking descriptor and each look drains them. A look answers true
/// when it cannot know (the first look at a path, a directory that cannot be watched, inotify unavailable, a
/// queue overflow), so a caller only ever skips work that could not have changed.
final class DirectoryChanges: Sendable {
    private struct Watch {
        var path: String?
        var descriptor: Int32 = -1
    }

    /// Everything that changes what a reader of the directory sees: entries created, written or truncated (also
    /// while still open), renamed in or out, removed, their mode or owner, and the directory itself removed or moved.
    /// Not IN_CLOSE_WRITE: every write already raised IN_MODIFY, and the kernel raises it at the last close of the
    /// file, which a fork in any thread (a child holding a copy of the descriptor) can put after a later look, so
    /// a file written long before read as changed again. Writes through mmap raise neither; the reload at least
    /// once a minute catches those.
    private static let mask = UInt32(IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE
                                     | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    /// The inotify instance, -1 if none could be made; closed in deinit.
    private let inotify: Int32
    private let watch = Mutex(Watch())

    init() {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
    }

    deinit {
        if inotify >= 0 { close(inotify) }
    }

    /// True when `path` may have changed since the previous call (for the same path).
    func changed(_ path: String) -> Bool {
        guard inotify >= 0 else { return true }
        return watch.withLock { watch in
            var events = false
            var buffer = [UInt8](repeating: 0, count: 4096)
            while read(inotify, &buffer, buffer.count) > 0 { events = true }
            if watch.path == path, watch.descriptor >= 0, !events { return false }
            // A new path, one not watched yet, or events: (re)watch it. A directory replaced since has a new inode,
            // so the watch is added again rather than trusted; adding it again for the same inode is harmless.
            if watch.path != path, watch.descriptor >= 0 { inotify_rm_watch(inotify, watch.descriptor) }
            watch.path = path
            watch.descriptor = inotify_add_watch(inotify, path, Self.mask)
            return true
        }
    }
}
