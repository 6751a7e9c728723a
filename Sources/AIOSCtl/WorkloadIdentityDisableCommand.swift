import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl workload-identity disable`: removes the agent's issuer entries, restarts and verifies K3s.
struct WorkloadIdentityDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Remove the agent's issuer and token-expiration entries from K3s' configuration, restart and verify.",
        discussion: "Rolls back if K3s does not come back serving the issuer that remains. Run it before purging the package.")

    @Flag(name: .long, help: "Rewrite the agent's drop-in even if it was edited by hand since aiosd last wrote it (the hand-edited entries are kept as entries; other settings are never dropped).")
    var force = false

    @Flag(name: .long, help: "Make the change on every server of the cluster, one at a time, through the cluster (see: aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let body = Array(try APICoding.encoder().encode(WorkloadIdentityDisableRequest(force: force ? true : nil, allServers: allServers ? true : nil)))
        if allServers { return try RolloutProgress.request(.workloadIdentityDisable, body: body, global: global) }
        do {
            guard let response = try JobProgress.run(.workloadIdentityDisable, body: body, as: K3sChangeResponse.self, global: global,
                                                     defaultTimeout: 900) else { return }
            Output.print(Output.summary(response, done: "Workload identity disabled"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
