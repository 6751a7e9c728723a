// Prefixed, non-variadic wrappers over libsystemd for Swift. Swift cannot call variadic C
// functions or see macros, so everything the agent needs from libsystemd passes through here.
#ifndef AIOS_CSYSTEMD_SHIM_H
#define AIOS_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-bus.h>
#include <sys/uio.h>
#include <stdint.h>

/// sd_notify(3) without unsetting the environment: later notifications must still reach systemd.
static inline int aios_sd_notify(const char *_Nonnull state) {
    return sd_notify(0, state);
}

/// The watchdog interval in microseconds if systemd expects pings from this process, else 0.
static inline uint64_t aios_sd_watchdog_usec(void) {
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

/// Number of sockets passed by socket activation (LISTEN_FDS for this pid), or a negative errno.
static inline int aios_sd_listen_fds(void) {
    return sd_listen_fds(1);
}

static inline int aios_sd_listen_fds_start(void) {
    return SD_LISTEN_FDS_START;
}

/// 1 if fd is a listening AF_UNIX stream socket, 0 if not, negative errno on error.
static inline int aios_sd_is_unix_stream_listener(int fd) {
    return sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
}

/// sd_journal_sendv(3): one iovec per FIELD=value. Location fields are the caller's to add.
static inline int aios_sd_journal_sendv(const struct iovec *_Nonnull iov, int n) {
    return sd_journal_sendv(iov, n);
}

/// True if the journal is reachable on its native socket (we run where journald is).
static inline int aios_sd_booted(void) {
    return sd_booted();
}

#endif
