import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl config reload`: re-read the configuration file, like `systemctl reload aiosd`, and report the outcome.
struct ConfigReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-read aiosd's configuration file; an invalid file is refused and the old configuration stays.",
        discussion: "Needs root or membership of the admin group (default: aios).")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.configReload))
                return
            }
            let response = try client.call(.configReload, as: ConfigReloadResponse.self)
            var text = "Configuration reloaded from \(response.configPath)."
            if !response.needsRestart.isEmpty {
                text += "\nChanged settings that take effect only after a restart (systemctl restart aiosd): "
                    + response.needsRestart.joined(separator: ", ")
            }
            Output.print(text)
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
