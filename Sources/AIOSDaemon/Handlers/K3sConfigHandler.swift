import AIOSAPI
import AIOSCore
import AIOSSystemd

/// `GET /v1/k3s/config`: the files, the unit's command line, and the effective configuration with provenance.
struct K3sConfigHandler: APIHandler {
    let endpoint = Endpoint.k3sConfig
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let response = try await operations.run { () throws(APIError) -> K3sConfigResponse in
            let unit = K3sDefaults.unit
            let configPath = K3sConfigReader.defaultConfigPath
            let files: [(path: String, text: String)]
            do {
                files = try K3sConfigReader.read(configPath: configPath)
            } catch let error as ConfigurationError {
                throw APIError(code: .configInvalid, message: "cannot read the K3s configuration: \(error)")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
            var loaded = false
            var commandLine: [String] = []
            do {
                let systemd = try SystemdManager()
                loaded = try systemd.isLoaded(unit)
                if loaded { commandLine = try systemd.execStart(of: unit) ?? [] }
            } catch let error as SystemdError {
                throw HostOperations.apiError(error, doing: "read \(unit)'s command line")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
            let merger = K3sConfigMerger()
            do {
                let perFile = try files.map { file in
                    K3sConfigResponse.File(path: file.path, settings: Self.settings(try merger.merge(files: [file])))
                }
                let effective = try merger.merge(files: files, commandLine: commandLine, commandLineSource: "ExecStart of \(unit)")
                return K3sConfigResponse(configPath: configPath, files: perFile, unit: unit, unitLoaded: loaded,
                                         commandLine: K3sSecrets.redact(commandLine: commandLine), effective: Self.settings(effective))
            } catch let error as ConfigurationError {
                throw APIError(code: .configInvalid, message: "K3s would not accept its configuration: \(error)",
                               hint: "fix \(error.file), then check again with: aiosctl k3s config")
            } catch {
                throw APIError(code: .internalError, message: "\(error)")
            }
        }
        return .json(response)
    }

    static func settings(_ configuration: K3sEffectiveConfiguration) -> [K3sConfigResponse.Setting] {
        configuration.settings.map { setting in
            K3sConfigResponse.Setting(key: setting.key, isList: setting.isList, values: setting.values.map { value in
                K3sConfigResponse.Value(value: K3sSecrets.isSecret(setting.key) ? K3sSecrets.redacted : value.value, from: value.location)
            })
        }
    }
}
