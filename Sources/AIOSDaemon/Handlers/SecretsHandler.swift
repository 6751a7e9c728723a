import AIOSAPI
import AIOSCore

/// `GET /v1/secrets`: every definition (files in secrets.d and the cluster's selected SecretSyncs), where it
/// comes from, and how its last sync went.
struct SecretsHandler: APIMethodHandler {
    let method = API.secrets
    let runner: SecretSyncRunner
    /// The definition files and the first look at the cluster block.
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let runner = self.runner
        let loaded = try await io.reply { runner.allDefinitions() }
        // A follower's own state is not what the leader did: it answers from the Secrets in the cluster.
        let follower = runner.election.flatMap { $0.nodeRole == .none ? nil : $0.standDownReason }
        let live: [String: KubernetesClient.SecretSummary]? = follower == nil ? nil : try await Self.ownedSecrets(runner, io: io)
        // Each entry is made as it is written: at 10,000 definitions the reply is megabytes.
        let engine = runner.engine
        let entries = loaded.all.lazy.map { definition in
            SecretListResponse.Entry(
                name: definition.name, source: definition.source.kind, keyvaultName: definition.keyvaultName,
                target: "\(definition.target.namespace)/\(definition.target.name)", type: definition.target.type.rawValue,
                objects: definition.objects.map(\.objectName),
                status: live.map { SecretWire.clusterStatus(of: definition, live: $0) }
                    ?? SecretWire.status(engine.status(definition.name), definition: definition))
        }
        var invalid = loaded.invalidFiles.map { InvalidDefinition(name: $0.name, error: $0.error.description) }
        invalid += loaded.invalidCluster.map { InvalidDefinition(name: $0.sync.key, source: "cluster", error: $0.issue.message) }
        let configuration = runner.configuration().cluster
        let unselected = try await io.reply { SecretWire.unselected(runner.unselectedSecretSyncs(), selection: configuration) }
        return reply(SecretListResponse(secrets: [], invalid: invalid, cluster: loaded.clusterNote, unselected: unselected, syncedBy: follower),
                     filling: "secrets", with: entries)
    }

    /// The Secrets aiosd wrote, by `NAMESPACE/NAME` (one list call, on the blocking pool); nil if unreadable.
    static func ownedSecrets(_ runner: SecretSyncRunner, io: BlockingPool) async throws(APIError) -> [String: KubernetesClient.SecretSummary]? {
        let configuration = runner.configuration().sync, connections = runner.engine.connections
        return try await io.reply {
            let secrets = try? connections.kubernetes(configuration: configuration).listSecrets(labelSelector: SecretSyncEngine.ownerSelector)
            return secrets.map { Dictionary($0.map { ("\($0.namespace)/\($0.name)", $0) }, uniquingKeysWith: { a, _ in a }) }
        }
    }
}
