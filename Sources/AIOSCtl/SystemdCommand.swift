import ArgumentParser

/// `aiosctl systemd ...`.
struct SystemdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "systemd",
        abstract: "Ask systemd to do host operations on aiosd's behalf.",
        subcommands: [SystemdDaemonReloadCommand.self])
}
