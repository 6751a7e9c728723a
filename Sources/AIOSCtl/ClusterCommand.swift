import ArgumentParser

/// `aiosctl cluster status`: the aiosd on every node of a multi-node K3s cluster.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show every node's aiosd and the node that syncs secrets (multi-node K3s clusters).",
        discussion: """
            Each aiosd renews a heartbeat Lease kube-system/aios-node-NODE every 10 s; the sync leader holds the \
            Lease kube-system/aios-sync-leader. Read from the API server, so any server node shows the whole cluster.
            """,
        subcommands: [ClusterStatusCommand.self],
        defaultSubcommand: ClusterStatusCommand.self)
}
