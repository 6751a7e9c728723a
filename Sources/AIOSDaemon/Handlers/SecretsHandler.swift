import AIOSAPI
import AIOSCore

/// `GET /v1/secrets`: every definition, where it comes from, and how its last sync went.
struct SecretsHandler: APIHandler {
    let endpoint = Endpoint.secrets
    let runner: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let loaded = runner.definitions()
        let entries = loaded.definitions.map { definition in
            SecretListResponse.Entry(
                name: definition.name, source: "file", keyvaultName: definition.keyvaultName,
                target: "\(definition.target.namespace)/\(definition.target.name)", type: definition.target.type.rawValue,
                objects: definition.objects.map(\.objectName),
                status: SecretWire.status(runner.engine.status(definition.name), definition: definition))
        }
        return .json(SecretListResponse(secrets: entries,
                                        invalid: loaded.invalid.map { InvalidDefinition(name: $0.name, error: $0.error.description) }))
    }
}
