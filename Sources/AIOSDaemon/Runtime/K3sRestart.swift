import AIOSAPI
import AIOSCore
import AIOSSystemd
import Logging

/// Restarting k3s.service over D-Bus, shared by `k3s restart` and every K3s change: the job's outcome, the
/// unit's state logged while waiting, and systemd's verdict turned into an API error.
enum K3sRestart {
    static func run(timeout: Duration, logger: Logger) throws(APIError) -> JobOutcome {
        let unit = K3sDefaults.unit
        do {
            return try SystemdManager().restartUnit(unit, timeout: timeout) { state in
                logger.info("Waiting for unit", metadata: [
                    "unit": "\(unit)", "unit.active_state": "\(state.activeState)", "unit.sub_state": "\(state.subState)",
                    "unit.restarts": "\(state.restarts)",
                ])
            }
        } catch {
            throw HostOperations.apiError(error, doing: "restart \(unit)")
        }
    }

    static func failure(_ outcome: JobOutcome) -> APIError {
        APIError(code: .operationFailed,
                 message: "\(K3sDefaults.unit) did not restart: job \(outcome.result), unit \(outcome.unit.activeState)/\(outcome.unit.subState), result \(outcome.unit.result)",
                 hint: "journalctl -u \(K3sDefaults.unit) -n 50")
    }
}
