import AIOSAPI
import AIOSSystemd
import FoundationEssentials

/// `POST /v1/systemd/daemon-reload`: systemd's `Reload()`, as `systemctl daemon-reload`.
struct SystemdDaemonReloadHandler: APIMethodHandler {
    let method = API.systemdDaemonReload
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let logger = operations.logger
        return try await operations.job("daemon-reload", request: request, touchesK3s: false) { (context) throws(APIError) -> Response in
            let start = ContinuousClock.now
            context.stepStarted("daemon-reload")
            do {
                try SystemdManager().reload()
            } catch let error as SystemdError {
                throw HostOperations.apiError(error, doing: "reload systemd's unit files")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
            let seconds = (ContinuousClock.now - start).seconds
            context.stepFinished(JobStep(name: "daemon-reload", ok: true, seconds: seconds))
            logger.notice("systemd daemon-reload done", metadata: ["operation.duration_s": "\(seconds)"])
            return HostOperationResponse(operation: "daemon-reload", result: "done", durationSeconds: seconds)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
