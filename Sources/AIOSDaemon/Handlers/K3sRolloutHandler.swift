import AIOSAPI
import AIOSCore

/// `GET /v1/k3s/rollout`: the cluster's last rollout of a K3s change across its servers, per server.
struct K3sRolloutHandler: APIMethodHandler {
    let method = API.k3sRollout
    let rollouts: K3sRollouts

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let rollouts = self.rollouts
        let current = try await rollouts.perform { () throws(APIError) in try rollouts.current() }
        guard let current else {
            throw APIError(code: .notFound, message: "no rollout across servers was ever requested in this cluster",
                           hint: "aiosctl workload-identity enable --issuer URL --all-servers")
        }
        return reply(current)
    }
}

extension K3sRollouts {
    /// Records a change for every server, as the request's reply: the caller's level was judged by the handler.
    func reply(recording change: K3sDesiredChange) async throws(APIError) -> APIReply {
        let rollouts = self
        return .json(try await perform { () throws(APIError) in try rollouts.start(change) })
    }
}
