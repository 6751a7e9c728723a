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
        do {
            guard let response = try JobProgress.run(.systemdDaemonReload, as: HostOperationResponse.self, global: global, defaultTimeout: 120) else { return }
            Output.print(Output.summary(response, verb: "reloaded"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
