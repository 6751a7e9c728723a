import AIOSAPI
import AIOSCore

/// `GET /v1/secrets`: every definition (files in secrets.d and the cluster's selected SecretSyncs), where it
/// comes from, and how its last sync went.
struct SecretsHandler: APIMethodHandler {
    let method = API.secrets
    let runner: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let loaded = runner.allDefinitions()
        let entries = loaded.all.map { definition in
            SecretListResponse.Entry(
                name: definition.name, source: definition.source.kind, keyvaultName: definition.keyvaultName,
                target: "\(definition.target.namespace)/\(definition.target.name)", type: definition.target.type.rawValue,
                objects: definition.objects.map(\.objectName),
                status: SecretWire.status(runner.engine.status(definition.name), definition: definition))
        }
        var invalid = loaded.invalidFiles.map { InvalidDefinition(name: $0.name, error: $0.error.description) }
        invalid += loaded.invalidCluster.map { InvalidDefinition(name: $0.sync.key, source: "cluster", error: $0.issue.message) }
        let unselected = SecretWire.unselected(runner.unselectedSecretSyncs(), selection: runner.configuration().cluster)
        return reply(SecretListResponse(secrets: entries, invalid: invalid, cluster: loaded.clusterNote, unselected: unselected))
    }
}
