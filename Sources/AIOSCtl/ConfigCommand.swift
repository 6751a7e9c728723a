import ArgumentParser

/// `aiosctl config ...`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with aiosd's configuration.",
        subcommands: [ConfigReloadCommand.self])
}
