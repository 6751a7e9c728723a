internal import CSystemd
import Glibc

/// A failed call to systemd over D-Bus: the operation, errno, and the D-Bus error systemd sent, if any.
public struct SystemdError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32
    public let busErrorName: String?
    public let busErrorMessage: String?

    public var description: String {
        if let busErrorMessage, let busErrorName { return "\(operation): \(busErrorMessage) (\(busErrorName))" }
        return "\(operation): \(String(cString: strerror(errno)))"
    }

    /// systemd refused for lack of privilege (polkit / CAP_SYS_ADMIN on older systemd).
    public var isAccessDenied: Bool {
        errno == EACCES || errno == EPERM || busErrorName == "org.freedesktop.DBus.Error.AccessDenied"
            || busErrorName == "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
    }
}

/// The state of a unit as systemd reports it.
public struct UnitState: Sendable, Equatable {
    public var activeState: String
    public var subState: String
    /// `org.freedesktop.systemd1.Service.Result`: success, exit-code, signal, timeout, watchdog, start-limit, ...
    public var result: String
    public var mainPID: UInt32
    public var restarts: UInt32
}

/// The outcome of a job (restart, start) as reported by `JobRemoved`.
public struct JobOutcome: Sendable, Equatable {
    public var job: String
    /// done, skipped (success); canceled, timeout, failed, dependency, ... (failure).
    public var result: String
    public var unit: UnitState

    public var succeeded: Bool { result == "done" || result == "skipped" }
}

/// systemd's manager over sd-bus: `Reload()` (daemon-reload) and `RestartUnit()` with race-free job tracking
/// (the JobRemoved match is installed before the call). Blocking: call it from a thread of its own, not an event loop.
public final class SystemdManager {
    private let bus: OpaquePointer
    private var slot: OpaquePointer?
    private let jobLog: UnsafeMutablePointer<aios_job_removed_log>

    public init() throws(SystemdError) {
        var bus: OpaquePointer?
        let opened = aios_sd_bus_open_system(&bus)
        guard opened >= 0, let bus else {
            throw SystemdError(operation: "connecting to the system bus", errno: -opened, busErrorName: nil, busErrorMessage: nil)
        }
        self.bus = bus
        jobLog = .allocate(capacity: 1)
        jobLog.initialize(to: aios_job_removed_log())
        var slot: OpaquePointer?
        let matched = aios_sd_bus_match_job_removed(bus, &slot, jobLog)
        guard matched >= 0 else {
            aios_sd_bus_close(bus)
            jobLog.deallocate()
            throw SystemdError(operation: "subscribing to JobRemoved", errno: -matched, busErrorName: nil, busErrorMessage: nil)
        }
        self.slot = slot
        // Without Subscribe() systemd sends job signals only to the job's requester; ask for all of them.
        try call("Subscribe", operation: "Subscribe()")
    }

    deinit {
        aios_sd_bus_slot_unref(slot)
        aios_sd_bus_close(bus)
        jobLog.deallocate()
    }

    /// `systemctl daemon-reload`.
    public func reload(timeout: Duration = .seconds(90)) throws(SystemdError) {
        try call("Reload", timeout: timeout, operation: "Reload()")
    }

    /// Restarts `unit` ("replace" mode) and waits until its job finishes or `timeout` passes; while it waits,
    /// `progress` sees the unit's state (ActiveState, SubState, NRestarts) about once a second.
    public func restartUnit(_ unit: String, timeout: Duration, progress: (UnitState) -> Void = { _ in }) throws(SystemdError) -> JobOutcome {
        let deadline = ContinuousClock.now + timeout
        let seenBefore = jobLog.pointee.count
        guard let job = try call("RestartUnit", unit, "replace", wantPath: true, operation: "RestartUnit(\(unit))") else {
            throw SystemdError(operation: "RestartUnit(\(unit))", errno: EBADMSG, busErrorName: nil, busErrorMessage: "no job in the reply")
        }
        while true {
            if let result = removedJob(job, since: seenBefore) {
                return JobOutcome(job: job, result: result, unit: try state(of: unit))
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                return JobOutcome(job: job, result: "timeout", unit: try state(of: unit))
            }
            let waited = aios_sd_bus_process_or_wait(bus, Self.microseconds(min(left, .seconds(1))))
            if waited < 0 && waited != -EINTR {
                throw SystemdError(operation: "waiting for job \(job)", errno: -waited, busErrorName: nil, busErrorMessage: nil)
            }
            if waited == 0, let state = try? state(of: unit) { progress(state) }  // a quiet second: report where the unit is
        }
    }

    /// ActiveState, SubState, the service Result, MainPID and NRestarts of `unit`.
    public func state(of unit: String) throws(SystemdError) -> UnitState {
        var encoded: UnsafeMutablePointer<CChar>?
        let r = aios_sd_bus_unit_path(unit, &encoded)
        guard r >= 0, let encoded else { throw SystemdError(operation: "unit path of \(unit)", errno: -r, busErrorName: nil, busErrorMessage: nil) }
        defer { free(encoded) }
        let path = String(cString: encoded)
        let unitInterface = "org.freedesktop.systemd1.Unit", serviceInterface = "org.freedesktop.systemd1.Service"
        return UnitState(
            activeState: try string(path, unitInterface, "ActiveState"),
            subState: try string(path, unitInterface, "SubState"),
            result: unit.hasSuffix(".service") ? try string(path, serviceInterface, "Result") : "",
            mainPID: unit.hasSuffix(".service") ? try u32(path, serviceInterface, "MainPID") : 0,
            restarts: unit.hasSuffix(".service") ? try u32(path, serviceInterface, "NRestarts") : 0)
    }

    /// The arguments of the service's first `ExecStart=` command (argv[0] included), or nil if the unit has none
    /// or is not loaded.
    public func execStart(of unit: String) throws(SystemdError) -> [String]? {
        var encoded: UnsafeMutablePointer<CChar>?
        let encodedResult = aios_sd_bus_unit_path(unit, &encoded)
        guard encodedResult >= 0, let encoded else {
            throw SystemdError(operation: "unit path of \(unit)", errno: -encodedResult, busErrorName: nil, busErrorMessage: nil)
        }
        defer { free(encoded) }
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var errorName: UnsafeMutablePointer<CChar>?
        var errorMessage: UnsafeMutablePointer<CChar>?
        defer {
            free(errorName)
            free(errorMessage)
        }
        let r = aios_sd_bus_get_exec_start_argv(bus, encoded, &argv, &errorName, &errorMessage)
        guard r >= 0 else {
            throw SystemdError(operation: "reading ExecStart of \(unit)", errno: -r, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        guard let argv else { return nil }
        defer { free(argv) }
        var arguments: [String] = []
        var index = 0
        while let argument = argv[index] {
            arguments.append(String(cString: argument))
            free(argument)
            index += 1
        }
        return arguments
    }

    /// The service's `Environment=` assignments and `EnvironmentFile=` paths, in order.
    public func environment(of unit: String) throws(SystemdError) -> (assignments: [String], files: [String]) {
        var encoded: UnsafeMutablePointer<CChar>?
        let encodedResult = aios_sd_bus_unit_path(unit, &encoded)
        guard encodedResult >= 0, let encoded else {
            throw SystemdError(operation: "unit path of \(unit)", errno: -encodedResult, busErrorName: nil, busErrorMessage: nil)
        }
        defer { free(encoded) }
        var errorName: UnsafeMutablePointer<CChar>?
        var errorMessage: UnsafeMutablePointer<CChar>?
        defer {
            free(errorName)
            free(errorMessage)
        }
        var assignments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let r = aios_sd_bus_get_strv_property(bus, encoded, "org.freedesktop.systemd1.Service", "Environment", &assignments, &errorName, &errorMessage)
        guard r >= 0 else {
            free(assignments)
            throw SystemdError(operation: "reading Environment of \(unit)", errno: -r, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        var paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let f = aios_sd_bus_get_environment_files(bus, encoded, 64, &paths, &errorName, &errorMessage)
        let environment = Self.strings(assignments), files = Self.strings(paths)
        guard f >= 0 else {
            throw SystemdError(operation: "reading EnvironmentFiles of \(unit)", errno: -f, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        return (environment, files)
    }

    /// Copies and frees a NULL-terminated array of malloc'ed C strings.
    private static func strings(_ array: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        guard let array else { return [] }
        defer { free(array) }
        var result: [String] = []
        var index = 0
        while let string = array[index] {
            result.append(String(cString: string))
            free(string)
            index += 1
        }
        return result
    }

    /// True if systemd has the unit loaded (it exists and parsed).
    public func isLoaded(_ unit: String) throws(SystemdError) -> Bool {
        var encoded: UnsafeMutablePointer<CChar>?
        let r = aios_sd_bus_unit_path(unit, &encoded)
        guard r >= 0, let encoded else { throw SystemdError(operation: "unit path of \(unit)", errno: -r, busErrorName: nil, busErrorMessage: nil) }
        defer { free(encoded) }
        return try string(String(cString: encoded), "org.freedesktop.systemd1.Unit", "LoadState") == "loaded"
    }

    private func removedJob(_ job: String, since start: UInt) -> String? {
        let log = jobLog.pointee
        let first = max(start, log.count >= UInt(AIOS_JOB_RING) ? log.count - UInt(AIOS_JOB_RING) : 0)
        for index in first..<log.count {
            var entry = withUnsafeBytes(of: log.entries) { raw in
                raw.load(fromByteOffset: Int(index % UInt(AIOS_JOB_RING)) * MemoryLayout<aios_job_removed_entry>.stride,
                         as: aios_job_removed_entry.self)
            }
            let path = withUnsafePointer(to: &entry.job) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if path == job {
                return withUnsafePointer(to: &entry.result) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
        }
        return nil
    }

    @discardableResult
    private func call(_ member: String, _ first: String? = nil, _ second: String? = nil, wantPath: Bool = false,
                      timeout: Duration = .seconds(25), operation: String) throws(SystemdError) -> String? {
        var path: UnsafeMutablePointer<CChar>?
        var errorName: UnsafeMutablePointer<CChar>?
        var errorMessage: UnsafeMutablePointer<CChar>?
        defer {
            free(path)
            free(errorName)
            free(errorMessage)
        }
        let r: Int32 = withOptionalCString(first) { first in
            withOptionalCString(second) { second in
                wantPath
                    ? aios_sd_bus_call_manager(bus, member, first, second, Self.microseconds(timeout), &path, &errorName, &errorMessage)
                    : aios_sd_bus_call_manager(bus, member, first, second, Self.microseconds(timeout), nil, &errorName, &errorMessage)
            }
        }
        guard r >= 0 else {
            throw SystemdError(operation: operation, errno: -r, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        return path.map { String(cString: $0) }
    }

    private func string(_ path: String, _ interface: String, _ member: String) throws(SystemdError) -> String {
        var value: UnsafeMutablePointer<CChar>?
        var errorName: UnsafeMutablePointer<CChar>?
        var errorMessage: UnsafeMutablePointer<CChar>?
        defer {
            free(value)
            free(errorName)
            free(errorMessage)
        }
        let r = aios_sd_bus_get_string_property(bus, path, interface, member, &value, &errorName, &errorMessage)
        guard r >= 0, let value else {
            throw SystemdError(operation: "reading \(member) of \(path)", errno: -r, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        return String(cString: value)
    }

    private func u32(_ path: String, _ interface: String, _ member: String) throws(SystemdError) -> UInt32 {
        var value: UInt32 = 0
        var errorName: UnsafeMutablePointer<CChar>?
        var errorMessage: UnsafeMutablePointer<CChar>?
        defer {
            free(errorName)
            free(errorMessage)
        }
        let r = aios_sd_bus_get_u32_property(bus, path, interface, member, &value, &errorName, &errorMessage)
        guard r >= 0 else {
            throw SystemdError(operation: "reading \(member) of \(path)", errno: -r, busErrorName: errorName.map { String(cString: $0) },
                               busErrorMessage: errorMessage.map { String(cString: $0) })
        }
        return value
    }

    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000_000)
    }
}

private func withOptionalCString<T>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
