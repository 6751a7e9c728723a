import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s rollout`: the cluster's last rollout of a K3s change across its servers.
struct K3sRolloutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Show the cluster's last K3s change across all servers (--all-servers): each server's state and times.",
        discussion: """
            A change requested with --all-servers is kept in the ConfigMap kube-system/aios-rollout; every server's \
            aiosd makes it on its own host, one server at a time (the Lease kube-system/aios-k3s-restart), only while \
            every other server's Node is Ready, and the rollout stops at the first server that refuses or fails \
            (that server rolls back). Server states: pending, applying, done, refused, rolled-back, failed.
            """)

    @Flag(name: .long, help: "Follow a running rollout until it ends.")
    var follow = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client(defaultTimeout: 30)
        do {
            if global.json {
                Output.printJSON(try client.call(.k3sRollout))
                return
            }
            var rollout = try client.call(.k3sRollout, as: K3sRolloutResponse.self)
            if follow && rollout.running { rollout = try RolloutProgress.follow(rollout, client: client) }
            Output.print(RolloutProgress.table(rollout))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
