import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl config reload`: re-read the configuration file, like `systemctl reload aiosd`, and report the outcome.
struct ConfigReloadCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read aiosd's configuration file; an invalid file is refused and the old configuration stays.",
        discussion: "Needs root or membership of the admin group (default: aios).")

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> ConfigReloadResponse { try client.call(API.configReload) }

    func render(_ response: ConfigReloadResponse, wide: Bool) -> String {
        var text = "Configuration reloaded from \(response.configPath)."
        if !response.needsRestart.isEmpty {
            text += "\nChanged settings that take effect only after a restart (systemctl restart aiosd): "
                + response.needsRestart.joined(separator: ", ")
        }
        return text
    }
}
