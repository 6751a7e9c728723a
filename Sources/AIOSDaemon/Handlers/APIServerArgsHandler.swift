import AIOSAPI
import AIOSCore

/// `GET /v1/k3s/apiserver-args`.
struct APIServerArgsHandler: APIMethodHandler {
    let method = API.apiServerArgs
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let workflow = operations.k3s()
        let response = try await operations.run { () throws(APIError) -> APIServerArgsResponse in
            do {
                let run = try workflow.inspect().run
                let agent = try run.agentDropInText.map { text throws(ConfigurationError) in try AgentDropIn.arguments(in: text, path: run.agentDropInPath) } ?? []
                return APIServerArgsResponse(
                    dropIn: run.agentDropInPath, agent: agent.map(\.description),
                    effective: (try run.effective().setting("kube-apiserver-arg")?.values ?? []).map {
                        K3sConfigResponse.Value(value: $0.value, from: $0.location)
                    })
            } catch let error as K3sChangeError {
                throw error.readError
            } catch {
                throw APIError(code: .configInvalid, message: "cannot read the agent's drop-in: \(error)")
            }
        }
        return reply(response)
    }
}
