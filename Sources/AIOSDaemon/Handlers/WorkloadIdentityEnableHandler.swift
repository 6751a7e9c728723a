import AIOSAPI
import AIOSCore
import Foundation

/// `POST /v1/workload-identity/enable`: the new issuer first, the previous one second, max token expiration;
/// then restart K3s and verify the API server serves the new issuer, rolling back if it does not.
struct WorkloadIdentityEnableHandler: APIHandler {
    let endpoint = Endpoint.workloadIdentityEnable
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body: WorkloadIdentityEnableRequest
        do {
            body = try APICoding.decoder().decode(WorkloadIdentityEnableRequest.self, from: Data(request.body))
        } catch {
            throw APIError(code: .badRequest, message: "expected {\"issuer\": URL, \"maxTokenExpiration\": duration}: \(error)")
        }
        try APIError.checking(request.caller) { () throws(PolicyRefusal) in
            try APIServerFlagPolicy.checkWorkloadIdentity(maxTokenExpiration: body.maxTokenExpiration ?? "24h", requester: request.caller.privilege)
        }
        let logger = operations.logger
        return try await operations.job("workload-identity-enable", request: request, touchesK3s: true) { (context) throws(APIError) -> K3sChangeResponse in
            let snapshot = try K3sConfigSnapshot.read()
            let current = try DropInState.read()
            let plan: WorkloadIdentityPlanner.Plan
            do {
                plan = try WorkloadIdentityPlanner().enable(issuer: body.issuer, maxTokenExpiration: body.maxTokenExpiration ?? "24h",
                                                            effective: snapshot.effective, dropIn: current.arguments)
            } catch let refusal as WorkloadIdentityPlanner.Refusal {
                throw APIError(code: .badRequest, message: "refused, nothing changed: \(refusal.description)")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
            guard case .write(let arguments) = plan else {
                logger.notice("Workload identity already enabled; nothing to do", metadata: ["issuer": "\(body.issuer)"])
                return K3sChangeResponse(changed: false, dropIn: AgentDropIn.path, steps: [], servedIssuer: nil)
            }
            var transaction = operations.k3sTransaction(context)
            let served = try transaction.apply(AgentDropIn.render(arguments), previous: current.text, expectedIssuer: body.issuer)
            logger.notice("Workload identity enabled", metadata: ["issuer": "\(served)"])
            return K3sChangeResponse(changed: true, dropIn: AgentDropIn.path, steps: transaction.steps, servedIssuer: served)
        }
    }
}

/// The agent's drop-in as it is now: its text (nil if absent) and its arguments.
struct DropInState {
    var text: String?
    var arguments: [APIServerArgument]

    static func read() throws(APIError) -> DropInState {
        do {
            let text = try SecureFileReader.readIfPresent(path: AgentDropIn.path, maximumBytes: 1 << 20)
            return DropInState(text: text, arguments: try text.map { try AgentDropIn.arguments(in: $0) } ?? [])
        } catch let error as ConfigurationError {
            throw APIError(code: .configInvalid, message: "cannot read \(AgentDropIn.path): \(error)")
        } catch {
            throw APIError(code: .configInvalid, message: "cannot read \(AgentDropIn.path): \(error)")
        }
    }
}
