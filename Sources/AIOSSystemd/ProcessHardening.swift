internal import CSystemd
import Glibc

/// What aiosd does to itself at start, before it reads any secret: no core file may ever hold a value.
public enum ProcessHardening {
    /// Sets RLIMIT_CORE to 0 and the process not dumpable. Returns false if either failed (it then still runs:
    /// the unit's LimitCORE=0 remains).
    @discardableResult
    public static func disableCoreDumps() -> Bool {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        let limited = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) == 0
        return aios_prctl_set_not_dumpable() == 0 && limited
    }

    public static var isDumpable: Bool { aios_prctl_get_dumpable() != 0 }

    public static var coreLimit: UInt {
        var current = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &current) == 0 else { return .max }
        return UInt(current.rlim_cur)
    }
}
