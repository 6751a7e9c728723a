import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/secrets/{name}/remove`: remove the definition file; with `deleteTarget`, also the Kubernetes Secret
/// (only if aiosd created it for this definition). Without it the Secret stays, no longer synced. On a K3s
/// server it works for a definition added on any server: the cluster's copy is marked removed (no node syncs it
/// then), and the server holding the file removes it at its next heartbeat (see `PublishedDefinitions`).
struct SecretRemoveHandler: APIMethodHandler {
    let method = API.secretRemove
    let runner: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let name = request.parameters["name"] ?? ""
        let body = try self.body(of: request, expected: "{\"deleteTarget\": false}")
        let runner = self.runner
        return try await runner.exclusive { () throws(APIError) -> APIReply in
            let directory = runner.directory
            if name.contains("/") {
                throw APIError(code: .badRequest, message: "\(name) is a SecretSync in the cluster; aiosctl removes only files in \(directory.path)",
                               hint: "kubectl -n \(name.split(separator: "/")[0]) delete secretsync \(name.split(separator: "/").dropFirst().joined())")
            }
            let local = directory.exists(name)
            let cluster = runner.clusterPublisher
            var copy: PublishedDefinitions.Copy?
            if let cluster {
                do {
                    copy = try cluster.publisher.copy(named: name).flatMap { $0.removedBy == nil ? $0 : nil }
                } catch where !local {
                    throw APIError(code: .operationFailed, message: "cannot read the definitions published in the cluster: \(error)",
                                   hint: "check the API server (aiosctl doctor), then try again")
                } catch {}  // the local file alone is removed, as on a lone host; its copy goes at the next heartbeat
            }
            guard local || copy != nil else {
                throw APIError(code: .notFound, message: "no synced secret named \(name)", hint: "aiosctl secret list")
            }
            // The copy in force and this node's own file (they differ on a conflict): the caller must be allowed both.
            let definition = runner.definitionsInForce().definitions.first { $0.name == name }
            let own = runner.definitions().definitions.first { $0.name == name }
            for checked in [definition, own].compactMap({ $0 }) {
                let configuration = runner.configuration()
                try APIError.checking(request.caller) { () throws(PolicyRefusal) in
                    try SecretDefinitionPolicy.check(checked, requester: request.caller.privilege, policy: configuration.secrets,
                                                     identity: configuration.identity)
                }
            }
            var deleted = false
            if body.deleteTarget {
                guard let definition else {
                    throw APIError(code: .configInvalid, message: "the definition \(name) cannot be read, so its Secret is unknown; nothing was removed",
                                   hint: "remove it without --delete-target, then delete the Secret with kubectl")
                }
                do {
                    deleted = try runner.engine.deleteTarget(of: definition, configuration: runner.configuration())
                } catch let error as SyncIssue {
                    throw APIError(code: .operationFailed, message: "nothing was removed: \(error.message)", hint: error.hint)
                } catch {
                    throw APIError(code: .internalError, message: "\(error)")
                }
            }
            var clusterNote: String?
            if let copy, let cluster {
                do {
                    try cluster.publisher.markRemoved(name, by: cluster.node)
                } catch {
                    throw APIError(code: .operationFailed,
                                   message: "cannot mark \(name) removed in the cluster: \(error); \(deleted ? "its Secret was deleted, the definition stays" : "nothing was removed")",
                                   hint: "try again")
                }
                let lease = "\(LeaderElectionSettings.namespace)/\(PublishedDefinitions.leaseName(for: name))"
                clusterNote = copy.publisher == cluster.node ? "removed in the cluster (Lease \(lease) marked removed)"
                    : "removed in the cluster (Lease \(lease) marked removed); \(copy.publisher), where it was added, removes its file at its next heartbeat (10s) or start"
            }
            if local {
                do {
                    try directory.remove(name)
                } catch {
                    throw APIError(code: .internalError, message: "cannot remove \(directory.file(for: name)): \(error)")
                }
            }
            runner.engine.forget(name)
            runner.publishDefinitions()
            let target = definition.map { "\($0.target.namespace)/\($0.target.name)" } ?? ""
            runner.logger.notice("Secret definition removed", metadata: [
                "secret": "\(name)", "target": "\(target)", "target_deleted": "\(deleted)",
            ])
            return reply(SecretRemoveResponse(file: local ? directory.file(for: name) : nil, target: target, targetDeleted: deleted, cluster: clusterNote))
        }
    }
}
