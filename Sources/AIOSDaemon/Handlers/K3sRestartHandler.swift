import AIOSAPI
import AIOSCore

/// `POST /v1/k3s/restart`: `RestartUnit(k3s.service, replace)`, waiting for the job's JobRemoved.
struct K3sRestartHandler: APIMethodHandler {
    let method = API.k3sRestart
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let logger = operations.logger
        let unit = K3sDefaults.unit
        return try await operations.job("k3s-restart", request: request, touchesK3s: true) { (context) throws(APIError) -> Response in
            let start = ContinuousClock.now
            context.stepStarted("restart \(unit)")
            let outcome = try K3sRestart.run(timeout: operations.configuration().k3s.readyTimeout, logger: logger)
            let response = HostOperationResponse(
                operation: "restart", unit: unit, job: outcome.job, result: outcome.result,
                activeState: outcome.unit.activeState, subState: outcome.unit.subState, serviceResult: outcome.unit.result,
                mainPID: outcome.unit.mainPID, restarts: outcome.unit.restarts, durationSeconds: (ContinuousClock.now - start).seconds)
            logger.notice(outcome.succeeded ? "Unit restarted" : "Unit restart failed", metadata: [
                "unit": "\(unit)", "job.result": "\(outcome.result)", "unit.result": "\(outcome.unit.result)",
                "unit.active_state": "\(outcome.unit.activeState)", "operation.duration_s": "\(response.durationSeconds)",
            ])
            context.stepFinished(JobStep(name: "restart \(unit)", ok: outcome.succeeded, seconds: response.durationSeconds,
                                         detail: "job \(outcome.result), \(outcome.unit.activeState)/\(outcome.unit.subState), result \(outcome.unit.result)"))
            guard outcome.succeeded else { throw K3sRestart.failure(outcome) }
            return response
        }
    }
}
