import AIOSAPI
import AIOSCore

/// `POST /v1/k3s/rollout/abort`: stops the running rollout across servers. No server starts its turn after
/// this; a server applying finishes (or rolls back) its own change and records how it went.
struct K3sRolloutAbortHandler: APIMethodHandler {
    let method = API.k3sRolloutAbort
    let rollouts: K3sRollouts

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let rollouts = self.rollouts
        return reply(try await rollouts.perform { () throws(APIError) in try rollouts.abort() })
    }
}
