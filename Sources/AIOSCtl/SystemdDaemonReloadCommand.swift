import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl systemd daemon-reload`: systemd's `Reload()`, as `systemctl daemon-reload`.
struct SystemdDaemonReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon-reload",
        abstract: "Make systemd re-read its unit files (systemctl daemon-reload), through aiosd.",
        discussion: "Needs root or the admin group.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client(defaultTimeout: 120)
        do {
            if global.json {
                Output.printJSON(try client.call(.systemdDaemonReload))
                return
            }
            Output.print(Output.summary(try client.call(.systemdDaemonReload, as: HostOperationResponse.self), verb: "reloaded"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
