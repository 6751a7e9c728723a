import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/secrets/{name}/remove`: remove the definition file; with `deleteTarget`, also the Kubernetes Secret
/// (only if aiosd created it for this definition). Without it the Secret stays, no longer synced.
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
            guard directory.exists(name) else {
                throw APIError(code: .notFound, message: "no synced secret named \(name)", hint: "aiosctl secret list")
            }
            let definition = runner.definitions().definitions.first { $0.name == name }
            if let definition {
                let configuration = runner.configuration()
                try APIError.checking(request.caller) { () throws(PolicyRefusal) in
                    try SecretDefinitionPolicy.check(definition, requester: request.caller.privilege, policy: configuration.secrets,
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
            do {
                try directory.remove(name)
            } catch {
                throw APIError(code: .internalError, message: "cannot remove \(directory.file(for: name)): \(error)")
            }
            runner.engine.forget(name)
            let target = definition.map { "\($0.target.namespace)/\($0.target.name)" } ?? ""
            runner.logger.notice("Secret definition removed", metadata: [
                "secret": "\(name)", "target": "\(target)", "target_deleted": "\(deleted)",
            ])
            return reply(SecretRemoveResponse(file: directory.file(for: name), target: target, targetDeleted: deleted))
        }
    }
}
