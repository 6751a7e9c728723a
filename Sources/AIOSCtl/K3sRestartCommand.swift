import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s restart`: restart k3s.service through systemd and wait for the job to finish.
struct K3sRestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart k3s.service and wait until systemd reports the restart job done.",
        discussion: "Fails (exit status 1) when the unit does not come back up; the message gives systemd's result. Needs root or the admin group.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        do {
            guard let response = try JobProgress.run(.k3sRestart, as: HostOperationResponse.self, global: global, defaultTimeout: 330) else { return }
            Output.print(Output.summary(response, verb: "restarted"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
