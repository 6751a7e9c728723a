import ArgumentParser

/// `aiosctl k3s ...`.
struct K3sCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k3s",
        abstract: "Operate K3s on this host.",
        subcommands: [K3sConfigCommand.self, K3sRestartCommand.self, APIServerArgCommand.self, K3sRolloutCommand.self])
}
