import AIOSAPI

/// `GET /v1/cluster`: every node's aiosd (its heartbeat Lease) and the sync leader, as the API server shows them.
struct ClusterHandler: APIMethodHandler {
    let method = API.cluster
    let runner: SecretSyncRunner
    /// Lease reads block (HTTP).
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        guard let election = runner.election else {
            throw APIError(code: .unavailable, message: "this aiosd runs without cluster coordination")
        }
        let view = try await io.reply { election.clusterView() }
        return reply(view)
    }
}
