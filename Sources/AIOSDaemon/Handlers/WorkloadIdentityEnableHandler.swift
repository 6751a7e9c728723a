import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/workload-identity/enable`: the new issuer first, the previous one second, max token expiration;
/// then restart K3s and verify the API server serves the new issuer, rolling back if it does not.
struct WorkloadIdentityEnableHandler: APIMethodHandler {
    let method = API.workloadIdentityEnable
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body = try self.body(of: request, expected: "{\"issuer\": URL, \"maxTokenExpiration\": duration, \"force\": bool}")
        try APIError.checking(request.caller) { () throws(PolicyRefusal) in
            try APIServerFlagPolicy.checkWorkloadIdentity(maxTokenExpiration: body.maxTokenExpiration ?? "24h", requester: request.caller.privilege)
        }
        if body.allServers == true {
            let change = K3sDesiredChange(kind: .enableWorkloadIdentity, issuer: body.issuer, maxTokenExpiration: body.maxTokenExpiration,
                                          force: body.force, requester: request.caller.privilege)
            try APIError.checking(request.caller) { () throws(PolicyRefusal) in try change.checkPolicy() }
            return try await K3sRollouts(operations: operations).reply(recording: change)
        }
        let logger = operations.logger
        return try await operations.job("workload-identity-enable", request: request, touchesK3s: true) { (context) throws(APIError) -> Response in
            let response = try operations.k3sChange(context) { (workflow, observer) throws(K3sChangeError) in
                try workflow.enableWorkloadIdentity(issuer: body.issuer, maxTokenExpiration: body.maxTokenExpiration, force: body.force ?? false,
                                                    observer: observer)
            }
            logger.notice(response.changed ? "Workload identity enabled" : "Workload identity already enabled; nothing to do",
                          metadata: ["issuer": "\(body.issuer)"])
            return response
        }
    }
}
