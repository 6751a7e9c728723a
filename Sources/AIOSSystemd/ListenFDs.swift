internal import CSystemd
import Glibc

/// Socket activation (sd_listen_fds(3)): the listening socket systemd passed us, if any.
public enum ListenFDs {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// The single listening AF_UNIX stream socket passed by aiosd.socket, or nil when not socket-activated.
    /// Unsets `LISTEN_*` so children do not inherit them; marks the fd close-on-exec.
    public static func takeUnixListener() throws -> Int32? {
        let count = aios_sd_listen_fds()
        if count < 0 {
            throw Error(description: "sd_listen_fds failed: \(String(cString: strerror(-count)))")
        }
        guard count > 0 else { return nil }
        guard count == 1 else {
            throw Error(description: "socket activation passed \(count) sockets; aiosd expects exactly one (ListenStream= in aiosd.socket)")
        }
        let fd = aios_sd_listen_fds_start()
        guard aios_sd_is_unix_stream_listener(fd) > 0 else {
            throw Error(description: "socket activation passed fd \(fd), which is not a listening Unix stream socket")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }
}
