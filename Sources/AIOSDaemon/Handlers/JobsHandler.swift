import AIOSAPI

/// `GET /v1/jobs`: recent host jobs, oldest first.
struct JobsHandler: APIMethodHandler {
    let method = API.jobs
    let store: JobStore

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        reply(store.list())
    }
}
