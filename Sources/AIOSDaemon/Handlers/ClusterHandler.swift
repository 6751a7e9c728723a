import AIOSAPI
import Dispatch

/// `GET /v1/cluster`: every node's aiosd (its heartbeat Lease) and the sync leader, as the API server shows them.
struct ClusterHandler: APIHandler {
    let endpoint = Endpoint.cluster
    let runner: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        guard let election = runner.election else {
            throw APIError(code: .unavailable, message: "this aiosd runs without cluster coordination")
        }
        // Lease reads block (libcurl): off the cooperative pool.
        let view = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: election.clusterView()) }
        }
        return .json(view)
    }
}
