import AIOSAPI
import AIOSCrypto
import AIOSHTTP
import AIOSSystemd

/// `GET /v1/version`.
struct VersionHandler: APIMethodHandler {
    let method = API.version

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        reply(Self.response())
    }

    static func response() -> VersionResponse {
        VersionResponse(version: AgentVersion.current, libraries: [
            "libcurl": HTTPClient.libcurlVersion,
            "openssl": OpenSSL.versionText,
        ])
    }
}
