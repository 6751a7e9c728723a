import AIOSCore
import FoundationEssentials

/// The definition files as the cluster has them (`DefinitionPublisher`): what `secret add`, `remove` and `show`
/// judge against on a K3s server, and publishing at once after an edit instead of at the next heartbeat.
extension SecretSyncRunner {
    /// The publisher and this node's name on a K3s server (the only nodes that publish definitions), else nil.
    var clusterPublisher: (publisher: DefinitionPublisher, node: String)? {
        guard let publisher, let election, election.nodeRole == .server else { return nil }
        return (publisher, election.nodeName)
    }

    /// This node's files merged with the copies other servers published (blocking: reads secrets.d).
    func definitionsInForce() -> SyncDefinitionDirectory.Loaded {
        let files = definitions()
        guard let publisher, let election else { return files }
        return publisher.merge(files, node: election.nodeName, defaultNamespace: configuration().sync.defaultNamespace)
    }

    /// Publishes this server's files now (after `secret add` or `remove`); the leader syncs a change it sees.
    /// A failure is logged and left to the next heartbeat (10 s), which publishes again.
    func publishDefinitions() {
        guard let (publisher, node) = clusterPublisher else { return }
        do {
            if try publisher.reconcile(node: node), election?.mayWrite == true { clusterChanged("definitions published in the cluster changed") }
        } catch {
            logger.warning("Cannot publish the definition files now; the next heartbeat tries again", metadata: ["error": "\(error.message)"])
        }
    }
}
