import AIOSAPI
import AIOSCore

/// `GET /v1/k3s/apiserver-args`.
struct APIServerArgsHandler: APIHandler {
    let endpoint = Endpoint.apiServerArgs
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let response = try await operations.run { () throws(APIError) -> APIServerArgsResponse in
            let snapshot = try K3sConfigSnapshot.read()
            let current = try DropInState.read()
            return APIServerArgsResponse(
                dropIn: AgentDropIn.path, agent: current.arguments.map(\.description),
                effective: (snapshot.effective.setting("kube-apiserver-arg")?.values ?? []).map {
                    K3sConfigResponse.Value(value: $0.value, from: $0.location)
                })
        }
        return .json(response)
    }
}
