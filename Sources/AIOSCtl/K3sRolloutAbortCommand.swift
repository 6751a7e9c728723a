import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s rollout abort`: stops the running rollout across the cluster's servers.
struct K3sRolloutAbortCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Stop the running rollout: no further server starts its turn.",
        discussion: """
            Marks the rollout in kube-system/aios-rollout aborted. No server starts its turn after that; a server \
            applying the change at that moment finishes it (or rolls it back, if it fails) and records its result, \
            as in any rollout. The servers still pending are not touched. Needs the operator level. Fails (exit 1) \
            when no rollout is running.
            """)

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .k3sRead }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sRolloutResponse {
        try client.call(API.k3sRolloutAbort)
    }

    func render(_ rollout: K3sRolloutResponse, wide: Bool) -> String {
        let applying = rollout.servers.filter { $0.state == "applying" }.map(\.name)
        return "rollout \(rollout.generation) aborted; no further server starts its turn"
            + (applying.isEmpty ? "" : " (\(applying.joined(separator: ", ")) finishes or rolls back its change)")
            + "\n" + RolloutProgress.table(rollout)
    }
}
