import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/secrets`: validate a definition and write it to secrets.d atomically. Nothing is written if any
/// part of it is wrong. On a K3s server the definition is published to the cluster at once (the leader syncs it
/// when it sees it, at its next heartbeat); a name another server added is refused. The next sync (or
/// `aiosctl sync`) picks it up.
struct SecretAddHandler: APIMethodHandler {
    let method = API.secretAdd
    let runner: SecretSyncRunner

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body = try self.body(of: request, expected: "{\"definition\": {...}, \"replace\": false}")
        let directory = runner.directory
        let logger = runner.logger
        return try await runner.exclusive { () throws(APIError) -> APIReply in
            var definition = try SecretWire.definition(body.definition, file: directory.file(for: body.definition.name),
                                                       defaultNamespace: directory.defaultNamespace)
            definition.writtenBy = request.caller.privilege == .root ? .root : .operator
            let existed = directory.exists(definition.name)
            if existed && !body.replace {
                throw APIError(code: .conflict, message: "a synced secret named \(definition.name) exists already (\(directory.file(for: definition.name)))",
                               hint: "aiosctl secret show \(definition.name); to replace it add --replace")
            }
            // Definitions are cluster-wide: a name another server published is that server's (remove it first).
            let published = Self.publishedCopy(of: definition.name, runner: runner)
            if let published, published.removedBy == nil, published.publisher != runner.clusterPublisher?.node,
               SyncDefinitionFile.render(definition) != published.text {
                throw APIError(code: .conflict, message: "a synced secret named \(definition.name) was added on \(published.publisher) (published in the cluster); nothing was written",
                               hint: "aiosctl secret show \(definition.name); to change it, remove it first (aiosctl secret remove \(definition.name), on any server)")
            }
            let inForce = runner.definitionsInForce().definitions
            // The new definition, and one it replaces, must both be within the caller's bounds.
            let replaced = existed ? inForce.first { $0.name == definition.name } : nil
            let configuration = runner.configuration()
            for checked in [definition] + (replaced.map { [$0] } ?? []) {
                try APIError.checking(request.caller) { () throws(PolicyRefusal) in
                    try SecretDefinitionPolicy.check(checked, requester: request.caller.privilege, policy: configuration.secrets,
                                                     identity: configuration.identity)
                }
            }
            // Two definitions must never fight over one Secret.
            let target = "\(definition.target.namespace)/\(definition.target.name)"
            if let other = inForce.first(where: {
                $0.name != definition.name && "\($0.target.namespace)/\($0.target.name)" == target
            }) {
                throw APIError(code: .conflict, message: "Secret \(target) is already the target of \(other.name)",
                               hint: "choose another target name with --secret-name")
            }
            if published?.removedBy != nil, let (publisher, _) = runner.clusterPublisher {
                // A marker of an earlier removal would make every server remove this file again: clear it first.
                do {
                    try publisher.clearRemoved(definition.name)
                } catch {
                    throw APIError(code: .operationFailed, message: "cannot clear the removal marker of \(definition.name) in the cluster; nothing was written: \(error)")
                }
            }
            do {
                try directory.write(definition)
            } catch {
                throw APIError(code: .internalError, message: "cannot write \(directory.file(for: definition.name)): \(error)")
            }
            runner.publishDefinitions()
            logger.notice("Secret definition written", metadata: [
                "secret": "\(definition.name)", "vault": "\(definition.keyvaultName)", "target": "\(target)",
                "file": "\(directory.file(for: definition.name))", "replaced": "\(existed)",
            ])
            return reply(SecretAddResponse(file: directory.file(for: definition.name), replaced: existed, definition: SecretWire.info(definition)),
                         status: existed ? 200 : 201)
        }
    }

    /// The cluster's copy of `name` on a K3s server (nil elsewhere, or when there is none). If the cluster
    /// cannot be read the definition is still written (as on a lone host); the heartbeat publishes it later.
    static func publishedCopy(of name: String, runner: SecretSyncRunner) -> PublishedDefinitions.Copy? {
        guard let (publisher, _) = runner.clusterPublisher else { return nil }
        return try? publisher.copy(named: name)
    }
}
