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
        let client = global.client(defaultTimeout: 330)
        do {
            if global.json {
                Output.printJSON(try client.call(.k3sRestart))
                return
            }
            Output.print(Output.summary(try client.call(.k3sRestart, as: HostOperationResponse.self), verb: "restarted"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
