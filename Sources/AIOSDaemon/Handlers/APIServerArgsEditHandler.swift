import AIOSAPI
import AIOSCore
import Foundation

/// `POST /v1/k3s/apiserver-args`: edit the agent's drop-in, restart K3s, verify it is ready and serves the
/// issuer the new configuration names; roll back otherwise.
struct APIServerArgsEditHandler: APIHandler {
    let endpoint = Endpoint.apiServerArgsEdit
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body: APIServerArgsEditRequest
        do {
            body = try APICoding.decoder().decode(APIServerArgsEditRequest.self, from: Data(request.body))
        } catch {
            throw APIError(code: .badRequest, message: "expected {\"set\": [\"name=value\"], \"unset\": [\"name\"]}: \(error)")
        }
        guard !body.set.isEmpty || !body.unset.isEmpty else {
            throw APIError(code: .badRequest, message: "nothing to set or unset")
        }
        if let bad = body.set.first(where: { !$0.contains("=") }) {
            throw APIError(code: .badRequest, message: "'\(bad)' is not FLAG=VALUE")
        }
        // Who may change which flag is decided before the job is queued: a refusal touches nothing.
        try APIError.checking(request.caller) { () throws(PolicyRefusal) in
            try APIServerFlagPolicy.check(set: body.set.map(APIServerArgument.init(parsing:)), unset: body.unset,
                                          requester: request.caller.privilege)
        }
        let logger = operations.logger
        return try await operations.job("apiserver-arg-edit", request: request, touchesK3s: true) { (context) throws(APIError) -> K3sChangeResponse in
            let snapshot = try K3sConfigSnapshot.read()
            let current = try DropInState.read()
            let edited: [APIServerArgument]?
            do {
                try WorkloadIdentityPlanner.ensureEditTakesEffect(effective: snapshot.effective, dropIn: current.arguments)
                edited = try WorkloadIdentityPlanner.edit(dropIn: current.arguments, set: body.set.map(APIServerArgument.init(parsing:)),
                                                          unset: body.unset)
            } catch let refusal as WorkloadIdentityPlanner.Refusal {
                throw APIError(code: .badRequest, message: "refused, nothing changed: \(refusal.description)")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
            guard let edited else {
                return K3sChangeResponse(changed: false, dropIn: AgentDropIn.path, steps: [], servedIssuer: nil)
            }
            let newText = edited.isEmpty ? nil : AgentDropIn.render(edited)
            let expected = try snapshot.issuer(withDropIn: newText)
            var transaction = operations.k3sTransaction(context)
            let served = try transaction.apply(newText, previous: current.text, expectedIssuer: expected)
            // Flag names only: values stay out of the journal.
            logger.notice("kube-apiserver arguments changed", metadata: [
                "k3s.set": "\(body.set.map { APIServerArgument(parsing: $0).name }.joined(separator: ","))",
                "k3s.unset": "\(body.unset.joined(separator: ","))",
            ])
            return K3sChangeResponse(changed: true, dropIn: AgentDropIn.path, steps: transaction.steps, servedIssuer: served)
        }
    }
}
