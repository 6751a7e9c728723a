import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl systemd daemon-reload`: systemd's `Reload()`, as `systemctl daemon-reload`.
struct SystemdDaemonReloadCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon-reload",
        abstract: "Make systemd re-read its unit files (systemctl daemon-reload), through aiosd.",
        discussion: "Needs root or the admin group.")

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .systemdReload }

    func run(client: ControlClient, output: CommandOutput) throws -> HostOperationResponse {
        try JobProgress.run(API.systemdDaemonReload, NoRequest(), client: client, output: output)
    }

    func render(_ response: HostOperationResponse, wide: Bool) -> String { Output.summary(response, verb: "reloaded") }
}
