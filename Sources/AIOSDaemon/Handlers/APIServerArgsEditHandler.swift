import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/k3s/apiserver-args`: edit the agent's drop-in, restart K3s, verify it is ready and serves the
/// issuer the new configuration names; roll back otherwise.
struct APIServerArgsEditHandler: APIMethodHandler {
    let method = API.apiServerArgsEdit
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body = try self.body(of: request, expected: "{\"set\": [\"name=value\"], \"unset\": [\"name\"]}")
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
        if body.allServers == true {
            let change = K3sDesiredChange(kind: .editAPIServerArguments, set: body.set, unset: body.unset, force: body.force,
                                          requester: request.caller.privilege)
            try APIError.checking(request.caller) { () throws(PolicyRefusal) in try change.checkPolicy() }
            return try await K3sRollouts(operations: operations).reply(recording: change)
        }
        let logger = operations.logger
        return try await operations.job("apiserver-arg-edit", request: request, touchesK3s: true) { (context) throws(APIError) -> Response in
            let response = try operations.k3sChange(context) { (workflow, observer) throws(K3sChangeError) in
                try workflow.editAPIServerArguments(set: body.set.map(APIServerArgument.init(parsing:)), unset: body.unset,
                                                    force: body.force ?? false, observer: observer)
            }
            // Flag names only: values stay out of the journal.
            if response.changed {
                logger.notice("kube-apiserver arguments changed", metadata: [
                    "k3s.set": "\(body.set.map { APIServerArgument(parsing: $0).name }.joined(separator: ","))",
                    "k3s.unset": "\(body.unset.joined(separator: ","))",
                ])
            }
            return response
        }
    }
}
