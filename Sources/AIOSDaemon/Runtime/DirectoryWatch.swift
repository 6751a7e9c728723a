import Glibc

/// inotify on a few directories, read by a thread that blocks in poll(2): zero wakeups while nothing changes.
/// `onChange` runs (on that thread) after every batch of events in a watched directory: a file created, written,
/// moved in or removed. Directories that do not exist are skipped; `run()` returns after `stop()`.
final class DirectoryWatch: @unchecked Sendable {
    // Immutable after init; the descriptors are closed once, by `run()` or `deinit`, after `stop()`.
    private let inotify: Int32
    /// A socket pair: `stop()` writes to one end, `run()` polls the other with the inotify descriptor.
    private let stopEnds: (read: Int32, write: Int32)
    /// The directories actually watched.
    let watched: [String]

    /// nil: inotify or a socket pair is not available (e.g. the instance limit is reached).
    init?(directories: [String]) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &ends) == 0 else {
            close(fd)
            return nil
        }
        let mask = UInt32(IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_ATTRIB)
        var watched: [String] = []
        for directory in directories where !watched.contains(directory) {
            if inotify_add_watch(fd, directory, mask) >= 0 { watched.append(directory) }
        }
        inotify = fd
        stopEnds = (ends[0], ends[1])
        self.watched = watched
    }

    deinit {
        close(inotify)
        close(stopEnds.read)
        close(stopEnds.write)
    }

    /// Blocks until `stop()`, calling `onChange` after each batch of events.
    func run(onChange: () -> Void) {
        var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: stopEnds.read, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, fds[1].revents == 0 else { return }
            var drained = false
            // Drain every queued event (the descriptor is non-blocking); what changed does not matter, only that
            // something did.
            while read(inotify, &buffer, buffer.count) > 0 { drained = true }
            if drained { onChange() }
        }
    }

    /// Makes `run()` return; safe from any thread, more than once.
    func stop() {
        var byte: UInt8 = 1
        _ = write(stopEnds.write, &byte, 1)
    }
}
