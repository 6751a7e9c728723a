import AIOSAPI
import AIOSCore
import AIOSSystemd

/// `GET /v1/k3s/config`: the files, the unit's command line, and the effective configuration with provenance.
struct K3sConfigHandler: APIHandler {
    let endpoint = Endpoint.k3sConfig
    let operations: HostOperations

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let response = try await operations.run { () throws(APIError) -> K3sConfigResponse in
            let snapshot = try K3sConfigSnapshot.read()
            return K3sConfigResponse(
                configPath: snapshot.configPath, files: snapshot.perFile.map { K3sConfigResponse.File(path: $0.path, settings: Self.settings($0.settings)) },
                unit: snapshot.unit, unitLoaded: snapshot.unitLoaded, commandLine: K3sSecrets.redact(commandLine: snapshot.commandLine),
                effective: Self.settings(snapshot.effective))
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
