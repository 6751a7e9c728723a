import AIOSAPI
import AIOSCore

/// `POST /v1/workload-identity/disable`: removes the agent's issuer and token-expiration entries, restarts K3s,
/// and verifies the API server is back to the issuer that remains configured.
struct WorkloadIdentityDisableHandler: APIHandler {
    let endpoint = Endpoint.workloadIdentityDisable
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let logger = operations.logger
        return try await operations.job("workload-identity-disable", request: request, touchesK3s: true) { (context) throws(APIError) -> K3sChangeResponse in
            let current = try DropInState.read()
            let remaining = current.arguments.filter {
                $0.flagName != "service-account-issuer" && $0.flagName != "service-account-max-token-expiration"
            }
            guard remaining != current.arguments else {
                return K3sChangeResponse(changed: false, dropIn: AgentDropIn.path, steps: [], servedIssuer: nil)
            }
            let newText = remaining.isEmpty ? nil : AgentDropIn.render(remaining)
            // What the API server should serve afterwards: the first issuer still configured elsewhere, or K3s' default.
            let expected = try K3sConfigSnapshot.read().issuer(withDropIn: newText)
            var transaction = operations.k3sTransaction(context)
            let served = try transaction.apply(newText, previous: current.text, expectedIssuer: expected)
            logger.notice("Workload identity disabled", metadata: ["issuer": "\(served)"])
            return K3sChangeResponse(changed: true, dropIn: AgentDropIn.path, steps: transaction.steps, servedIssuer: served)
        }
    }
}
