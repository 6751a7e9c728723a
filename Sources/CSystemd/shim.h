// Prefixed, non-variadic wrappers over libsystemd for Swift. Swift cannot call variadic C
// functions or see macros, so everything the agent needs from libsystemd passes through here.
#ifndef AIOS_CSYSTEMD_SHIM_H
#define AIOS_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
// Without this, sd-journal.h turns sd_journal_sendv() into a macro that adds CODE_FILE/CODE_LINE/CODE_FUNC of this
// header (the build machine's path) to every entry, next to the Swift caller's location we send ourselves.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#include <systemd/sd-bus.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <stdint.h>

/// prctl(2) is variadic: PR_SET_DUMPABLE 0 (no core file, no ptrace by other users, /proc/PID owned by root).
static inline int aios_prctl_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/// 1 if this process may dump core (and be traced by its own uid), 0 if not, -1 on error.
static inline int aios_prctl_get_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

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

// ---- sd-bus: org.freedesktop.systemd1 ------------------------------------------------------------
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

static inline int aios_sd_bus_open_system(sd_bus *_Nullable *_Nonnull bus) {
    return sd_bus_open_system(bus);
}

static inline void aios_sd_bus_close(sd_bus *_Nullable bus) {
    sd_bus_flush_close_unref(bus);
}

static inline void aios_sd_bus_copy_error(const sd_bus_error *_Nonnull error, char *_Nullable *_Nullable name, char *_Nullable *_Nullable message) {
    if (name && error->name) *name = strdup(error->name);
    if (message && error->message) *message = strdup(error->message);
}

/// Calls a method of org.freedesktop.systemd1.Manager with zero, one or two string arguments; if `ret_path` is
/// given, reads an object path (a job) from the reply. Errors: negative errno, plus the D-Bus error's name and
/// message (strdup'ed; the caller frees them).
static inline int aios_sd_bus_call_manager(sd_bus *_Nonnull bus, const char *_Nonnull member,
                                           const char *_Nullable arg1, const char *_Nullable arg2, uint64_t timeout_usec,
                                           char *_Nullable *_Nullable ret_path,
                                           char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_message *call = NULL, *reply = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int r = sd_bus_message_new_method_call(bus, &call, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", member);
    if (r >= 0 && arg1) r = sd_bus_message_append_basic(call, 's', arg1);
    if (r >= 0 && arg2) r = sd_bus_message_append_basic(call, 's', arg2);
    if (r >= 0) {
        r = sd_bus_call(bus, call, timeout_usec, &error, &reply);
        if (r < 0) aios_sd_bus_copy_error(&error, error_name, error_message);
    }
    if (r >= 0 && ret_path) {
        const char *path = NULL;
        r = sd_bus_message_read_basic(reply, 'o', &path);
        if (r > 0 && path) *ret_path = strdup(path);
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(call);
    return r;
}

/// The last JobRemoved signals seen on a connection (a ring), filled by the match callback while sd_bus_process runs.
#define AIOS_JOB_RING 64
typedef struct {
    char job[256];
    char unit[256];
    char result[32];
} aios_job_removed_entry;

typedef struct {
    aios_job_removed_entry entries[AIOS_JOB_RING];
    unsigned long count;
} aios_job_removed_log;

static inline int aios_job_removed_handler(sd_bus_message *_Nonnull message, void *_Nullable userdata, sd_bus_error *_Nullable error) {
    aios_job_removed_log *log = (aios_job_removed_log *)userdata;
    uint32_t id = 0;
    const char *job = NULL, *unit = NULL, *result = NULL;
    (void)error;
    if (!log) return 0;
    if (sd_bus_message_read_basic(message, 'u', &id) < 0 || sd_bus_message_read_basic(message, 'o', &job) < 0 ||
        sd_bus_message_read_basic(message, 's', &unit) < 0 || sd_bus_message_read_basic(message, 's', &result) < 0)
        return 0;
    aios_job_removed_entry *entry = &log->entries[log->count % AIOS_JOB_RING];
    snprintf(entry->job, sizeof entry->job, "%s", job ? job : "");
    snprintf(entry->unit, sizeof entry->unit, "%s", unit ? unit : "");
    snprintf(entry->result, sizeof entry->result, "%s", result ? result : "");
    log->count++;
    return 0;
}

/// Installs the JobRemoved match; it must exist before the call that creates the job, or the signal can be missed.
static inline int aios_sd_bus_match_job_removed(sd_bus *_Nonnull bus, sd_bus_slot *_Nullable *_Nonnull slot, aios_job_removed_log *_Nonnull log) {
    return sd_bus_match_signal(bus, slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "JobRemoved", aios_job_removed_handler, log);
}

static inline void aios_sd_bus_slot_unref(sd_bus_slot *_Nullable slot) {
    sd_bus_slot_unref(slot);
}

/// Dispatches one pending message; if none was pending, waits up to `usec` for more. Negative errno on failure.
static inline int aios_sd_bus_process_or_wait(sd_bus *_Nonnull bus, uint64_t usec) {
    int r = sd_bus_process(bus, NULL);
    if (r != 0) return r;
    return sd_bus_wait(bus, usec);
}

/// The object path of a unit: k3s.service -> /org/freedesktop/systemd1/unit/k3s_2eservice (freed by the caller).
static inline int aios_sd_bus_unit_path(const char *_Nonnull unit, char *_Nullable *_Nonnull ret) {
    return sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, ret);
}

static inline int aios_sd_bus_get_string_property(sd_bus *_Nonnull bus, const char *_Nonnull path, const char *_Nonnull interface,
                                                  const char *_Nonnull member, char *_Nullable *_Nonnull ret,
                                                  char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, interface, member, &error, ret);
    if (r < 0) aios_sd_bus_copy_error(&error, error_name, error_message);
    sd_bus_error_free(&error);
    return r;
}

static inline int aios_sd_bus_get_u32_property(sd_bus *_Nonnull bus, const char *_Nonnull path, const char *_Nonnull interface,
                                               const char *_Nonnull member, uint32_t *_Nonnull ret,
                                               char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path, interface, member, &error, 'u', ret);
    if (r < 0) aios_sd_bus_copy_error(&error, error_name, error_message);
    sd_bus_error_free(&error);
    return r;
}

/// The argv of a service's first ExecStart= command (property a(sasbttttuii)); *ret_argv is NULL when it has none.
/// The caller frees the strings and the array.
static inline int aios_sd_bus_get_exec_start_argv(sd_bus *_Nonnull bus, const char *_Nonnull path, char *_Nullable *_Nullable *_Nonnull ret_argv,
                                                  char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_message *reply = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    const char *binary = NULL;
    *ret_argv = NULL;
    int r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Service", "ExecStart",
                                &error, &reply, "a(sasbttttuii)");
    if (r < 0) {
        aios_sd_bus_copy_error(&error, error_name, error_message);
        goto done;
    }
    r = sd_bus_message_enter_container(reply, 'a', "(sasbttttuii)");
    if (r <= 0) goto done;
    r = sd_bus_message_enter_container(reply, 'r', "sasbttttuii");
    if (r <= 0) goto done;
    r = sd_bus_message_read_basic(reply, 's', &binary);
    if (r < 0) goto done;
    r = sd_bus_message_read_strv(reply, ret_argv);
done:
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return r;
}

/// A string-array property (the service's `Environment`); *ret is NULL-terminated, freed by the caller.
static inline int aios_sd_bus_get_strv_property(sd_bus *_Nonnull bus, const char *_Nonnull path, const char *_Nonnull interface,
                                                const char *_Nonnull member, char *_Nullable *_Nullable *_Nonnull ret,
                                                char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    int r = sd_bus_get_property_strv(bus, "org.freedesktop.systemd1", path, interface, member, &error, ret);
    if (r < 0) aios_sd_bus_copy_error(&error, error_name, error_message);
    sd_bus_error_free(&error);
    return r;
}

/// The paths of a service's `EnvironmentFiles` (property a(sb): path, ignore-if-missing) into *ret_paths
/// (NULL-terminated, at most `max` entries; the caller frees the strings and the array).
static inline int aios_sd_bus_get_environment_files(sd_bus *_Nonnull bus, const char *_Nonnull path, int max,
                                                    char *_Nullable *_Nullable *_Nonnull ret_paths,
                                                    char *_Nullable *_Nullable error_name, char *_Nullable *_Nullable error_message) {
    sd_bus_message *reply = NULL;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    const char *file = NULL;
    int ignore = 0, count = 0;
    char **paths = calloc((size_t)max + 1, sizeof(char *));
    *ret_paths = paths;
    if (!paths) return -ENOMEM;
    int r = sd_bus_get_property(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Service", "EnvironmentFiles",
                                &error, &reply, "a(sb)");
    if (r < 0) {
        aios_sd_bus_copy_error(&error, error_name, error_message);
    } else {
        r = sd_bus_message_enter_container(reply, 'a', "(sb)");
        while (r > 0 && count < max && (r = sd_bus_message_read(reply, "(sb)", &file, &ignore)) > 0) {
            paths[count] = strdup(file);
            if (!paths[count]) { r = -ENOMEM; break; }
            count++;
        }
        if (r >= 0) r = count;
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return r;
}

/// The last `max` MESSAGE fields logged by `unit` (oldest first) into *ret_lines (malloc'ed, NULL-terminated;
/// the caller frees the strings and the array). Returns the count or a negative errno.
static inline int aios_sd_journal_unit_tail(const char *_Nonnull unit, int max, char *_Nullable *_Nullable *_Nonnull ret_lines) {
    sd_journal *journal = NULL;
    char match[512];
    int count = 0;
    *ret_lines = NULL;
    int r = sd_journal_open(&journal, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
    if (r < 0) return r;
    snprintf(match, sizeof match, "_SYSTEMD_UNIT=%s", unit);
    char **lines = (char **)calloc((size_t)max + 1, sizeof(char *));
    if (!lines) { sd_journal_close(journal); return -ENOMEM; }
    r = sd_journal_add_match(journal, match, 0);
    if (r >= 0) r = sd_journal_seek_tail(journal);
    while (r >= 0 && count < max && sd_journal_previous(journal) > 0) {
        const void *data = NULL;
        size_t length = 0;
        if (sd_journal_get_data(journal, "MESSAGE", &data, &length) >= 0 && length > 8)
            lines[count++] = strndup((const char *)data + 8, length - 8);
    }
    sd_journal_close(journal);
    for (int i = 0; i < count / 2; i++) { char *t = lines[i]; lines[i] = lines[count - 1 - i]; lines[count - 1 - i] = t; }
    *ret_lines = lines;
    return r < 0 ? r : count;
}

#endif
