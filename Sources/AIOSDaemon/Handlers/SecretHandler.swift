import AIOSAPI
import AIOSCore

/// `GET /v1/secrets/{name}`: one definition, its origin, and the status of each object. On a follower of a
/// multi-node cluster the status is what the cluster shows (the Secret the leader wrote), and `syncedBy` names
/// the leader: the follower's own state is not what the leader did.
struct SecretHandler: APIMethodHandler {
    let method = API.secret
    let runner: SecretSyncRunner
    /// The definition files and the first look at the cluster block.
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let name = request.parameters["name"] ?? ""
        let runner = self.runner
        let loaded = try await io.reply { runner.allDefinitions() }
        if let invalid = loaded.invalidFiles.first(where: { $0.name == name }) {
            throw APIError(code: .configInvalid, message: "the definition \(name) cannot be used: \(invalid.error)",
                           hint: "fix the file, or remove it: aiosctl secret remove \(name)")
        }
        if let invalid = loaded.invalidCluster.first(where: { $0.sync.key == name }) {
            throw APIError(code: .configInvalid, message: "SecretSync \(name) cannot be used: \(invalid.issue.message)", hint: invalid.issue.hint)
        }
        guard let definition = loaded.all.first(where: { $0.name == name }) else {
            throw APIError(code: .notFound, message: "no synced secret named \(name)",
                           hint: "aiosctl secret list (SecretSyncs are named NAMESPACE/NAME)\(loaded.clusterNote.map { "; note: \($0)" } ?? "")")
        }
        let identity: String
        do {
            let configuration = runner.configuration()
            let resolved = try SyncIdentity.resolve(definition, configuration: configuration.identity, policy: configuration.secrets)
            identity = "\(resolved.description), tenant \(resolved.tenantId)"
        } catch {
            identity = "none: \(error.message)"
        }
        let follower = runner.election.flatMap { $0.nodeRole == .none ? nil : $0.standDownReason }
        let status: SecretStatusInfo
        if follower != nil {
            let live = try await SecretsHandler.ownedSecrets(runner, io: io)
            status = live.map { SecretWire.clusterStatus(of: definition, live: $0) }
                ?? SecretWire.status(runner.engine.status(name), definition: definition)
        } else {
            status = SecretWire.status(runner.engine.status(name), definition: definition)
        }
        return reply(SecretShowResponse(definition: SecretWire.info(definition), status: status, identity: identity, syncedBy: follower))
    }
}
