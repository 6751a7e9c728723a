import AIOSAPI
import AIOSCore
import Foundation

/// `POST /v1/config/reload`: the same as SIGHUP, but the caller learns the outcome.
struct ConfigReloadHandler: APIMethodHandler {
    let method = API.configReload
    let state: DaemonState
    let manager: ConfigurationManager

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        do {
            let needsRestart = try manager.reload(trigger: .api)
            return reply(ConfigReloadResponse(configPath: state.configPath, loadedAt: state.current.configLoadedAt,
                                              needsRestart: needsRestart))
        } catch {
            throw APIError(code: .configInvalid, message: "configuration refused, the previous one stays in force: \(error)",
                           hint: "fix \(error.file)\(error.line.map { " line \($0)" } ?? ""), then run: aiosctl config reload")
        }
    }
}
