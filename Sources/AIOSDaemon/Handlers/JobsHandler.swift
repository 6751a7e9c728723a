import AIOSAPI

/// `GET /v1/jobs`: recent host jobs, oldest first.
struct JobsHandler: APIHandler {
    let endpoint = Endpoint.jobs
    let store: JobStore

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        .json(store.list())
    }
}
