import AIOSAPI
import AIOSCore

/// `GET /v1/k3s/config`: the files, the unit's command line, and the effective configuration with provenance.
struct K3sConfigHandler: APIMethodHandler {
    let method = API.k3sConfig
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let workflow = operations.k3s()
        let response = try await operations.run { () throws(APIError) -> K3sConfigResponse in
            do {
                let (run, loaded) = try workflow.inspect()
                let merger = K3sConfigMerger()
                var files: [K3sConfigResponse.File] = []
                for file in run.files {
                    files.append(K3sConfigResponse.File(path: file.path, settings: Self.settings(try merger.merge(files: [file]))))
                }
                for file in run.environment {
                    files.append(K3sConfigResponse.File(path: file.path, settings: Self.settings(try merger.merge(files: [], environment: [file]))))
                }
                return K3sConfigResponse(
                    configPath: run.configPath, files: files, unit: run.unit.name, unitLoaded: loaded,
                    commandLine: K3sSecrets.redact(commandLine: run.unit.commandLine), effective: Self.settings(try run.effective()))
            } catch let error as K3sChangeError {
                throw error.readError
            } catch {
                throw APIError(code: .configInvalid, message: "K3s would not accept its configuration: \(error)")
            }
        }
        return reply(response)
    }

    static func settings(_ configuration: K3sEffectiveConfiguration) -> [K3sConfigResponse.Setting] {
        configuration.settings.map { setting in
            K3sConfigResponse.Setting(key: setting.key, isList: setting.isList, values: setting.values.map { value in
                K3sConfigResponse.Value(value: K3sSecrets.isSecret(setting.key) ? K3sSecrets.redacted : value.value, from: value.location)
            })
        }
    }
}
