import AIOSAPI
import AIOSSystemd
import Dispatch
import Logging

/// Runs host operations (daemon-reload, K3s restarts) one at a time on a thread of their own: sd-bus calls block,
/// and two restarts of K3s must never overlap.
public final class HostOperations: Sendable {
    private let queue = DispatchQueue(label: "aiosd.host-operations")
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Queues the roll-back of an interrupted K3s change, ahead of any request.
    func startRecovery() {
        let logger = self.logger
        queue.async { K3sDropInTransaction.recoverIfInterrupted(logger: logger) }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        let result: Result<T, APIError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(APIError) -> T in try body() })
            }
        }
        return try result.get()
    }

    static func apiError(_ error: SystemdError, doing what: String) -> APIError {
        if error.isAccessDenied {
            return APIError(code: .systemdError, message: "systemd refused to \(what): \(error)",
                            hint: "aiosd needs to run as root with CAP_SYS_ADMIN (see aiosd.service)")
        }
        return APIError(code: .systemdError, message: "cannot \(what): \(error)", hint: "check: systemctl status")
    }
}
