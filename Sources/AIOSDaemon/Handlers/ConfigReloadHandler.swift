import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/config/reload`: the same as SIGHUP, but the caller learns the outcome.
struct ConfigReloadHandler: APIMethodHandler {
    let method = API.configReload
    let state: DaemonState
    let manager: ConfigurationManager
    /// The configuration file is read there.
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let manager = self.manager
        let outcome = try await io.reply { Result { () throws(ConfigurationError) -> [String] in try manager.reload(trigger: .api) } }
        do {
            let needsRestart = try outcome.get()
            return reply(ConfigReloadResponse(configPath: state.configPath, loadedAt: state.current.configLoadedAt,
                                              needsRestart: needsRestart))
        } catch {
            throw APIError(code: .configInvalid, message: "configuration refused, the previous one stays in force: \(error)",
                           hint: "fix \(error.file)\(error.line.map { " line \($0)" } ?? ""), then run: aiosctl config reload")
        }
    }
}
