import ArgumentParser

/// `aiosctl k3s rollout ...`: the rollout of a K3s change across the cluster's servers (`show` is the default).
struct K3sRolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Show (the default) or abort the cluster's rollout of a K3s change across all servers (--all-servers).",
        subcommands: [K3sRolloutShowCommand.self, K3sRolloutAbortCommand.self],
        defaultSubcommand: K3sRolloutShowCommand.self)
}
