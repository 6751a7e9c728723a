import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s rollout [show]`: the cluster's last rollout of a K3s change across its servers.
struct K3sRolloutShowCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the cluster's last K3s change across all servers (--all-servers): each server's state and times (the default of aiosctl k3s rollout).",
        discussion: """
            A change requested with --all-servers is kept in the ConfigMap kube-system/aios-rollout; every server's \
            aiosd makes it on its own host, one server at a time (the Lease kube-system/aios-k3s-restart), only while \
            every other server's Node is Ready, and the rollout stops at the first server that refuses or fails \
            (that server rolls back). Server states: pending, applying, done, refused, rolled-back, failed. Rollout \
            states: running, succeeded, failed, aborted (aiosctl k3s rollout abort).
            """)

    @Flag(name: .long, help: "Follow a running rollout until it ends.")
    var follow = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .k3sRead }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sRolloutResponse {
        let rollout = try client.call(API.k3sRollout)
        guard follow && rollout.running && (output.format == .text || output.format == .wide) else { return rollout }
        return try RolloutProgress.follow(rollout, client: client)
    }

    func render(_ rollout: K3sRolloutResponse, wide: Bool) -> String { RolloutProgress.table(rollout) }
}
