import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s restart`: restart k3s.service through systemd and wait for the job to finish.
struct K3sRestartCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart k3s.service and wait until systemd reports the restart job done.",
        discussion: "Fails (exit status 1) when the unit does not come back up; the message gives systemd's result. Needs root or the admin group.")

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .k3sRestart }

    func run(client: ControlClient, output: CommandOutput) throws -> HostOperationResponse {
        try JobProgress.run(API.k3sRestart, NoRequest(), client: client, output: output)
    }

    func render(_ response: HostOperationResponse, wide: Bool) -> String { Output.summary(response, verb: "restarted") }
}
