import AIOSAPI

/// `GET /v1/jobs/{id}`: one job with its steps, outcome and, on failure, K3s' journal lines.
struct JobHandler: APIMethodHandler {
    let method = API.job
    let store: JobStore

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let id = request.parameters["id"] ?? ""
        guard let job = store.get(id) else {
            throw APIError(code: .notFound, message: "no job \(id)", hint: "list recent jobs with: aiosctl jobs")
        }
        return reply(job)
    }
}
