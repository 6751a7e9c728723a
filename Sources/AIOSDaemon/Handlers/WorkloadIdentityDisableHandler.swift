import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/workload-identity/disable`: removes the agent's issuer and token-expiration entries, restarts K3s,
/// and verifies the API server is back to the issuer that remains configured.
struct WorkloadIdentityDisableHandler: APIMethodHandler {
    let method = API.workloadIdentityDisable
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body = try self.body(of: request, expected: "{\"force\": bool} or no body")
        if body.allServers == true {
            let change = K3sDesiredChange(kind: .disableWorkloadIdentity, force: body.force, requester: request.caller.privilege)
            try APIError.checking(request.caller) { () throws(PolicyRefusal) in try change.checkPolicy() }
            return try await K3sRollouts(operations: operations).reply(recording: change)
        }
        let logger = operations.logger
        return try await operations.job("workload-identity-disable", request: request, touchesK3s: true) { (context) throws(APIError) -> Response in
            let response = try operations.k3sChange(context) { (workflow, observer) throws(K3sChangeError) in
                try workflow.disableWorkloadIdentity(force: body.force ?? false, observer: observer)
            }
            if response.changed { logger.notice("Workload identity disabled", metadata: ["issuer": "\(response.servedIssuer ?? "")"]) }
            return response
        }
    }
}
