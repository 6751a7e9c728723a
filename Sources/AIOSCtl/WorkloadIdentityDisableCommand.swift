import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl workload-identity disable`: removes the agent's issuer entries, restarts and verifies K3s.
struct WorkloadIdentityDisableCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Remove the agent's issuer and token-expiration entries from K3s' configuration, restart and verify.",
        discussion: "Rolls back if K3s does not come back serving the issuer that remains. Run it before purging the package.")

    @Flag(name: .long, help: "Rewrite the agent's drop-in even if it was edited by hand since aiosd last wrote it (the hand-edited entries are kept as entries; other settings are never dropped).")
    var force = false

    @Flag(name: .long, help: "Make the change on every server of the cluster, one at a time, through the cluster (see: aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .long }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sChangeOutcome {
        let request = WorkloadIdentityDisableRequest(force: force ? true : nil, allServers: allServers ? true : nil)
        if allServers { return .rollout(try RolloutProgress.request(API.workloadIdentityDisableAllServers, request, client: client, output: output)) }
        return .host(try JobProgress.run(API.workloadIdentityDisable, request, client: client, output: output))
    }

    func render(_ outcome: K3sChangeOutcome, wide: Bool) -> String { outcome.render(done: "Workload identity disabled") }
}
