import AIOSAPI
import AIOSCore

/// `GET /v1/metrics`: Prometheus text exposition of the sync, request and job metrics.
struct MetricsHandler: APIMethodHandler {
    let method = API.metrics
    let sync: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        .text(MetricsExposition.text(sync: sync), contentType: PrometheusText.contentType)
    }
}
