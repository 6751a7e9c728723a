import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s apiserver-arg unset FLAG...`.
struct APIServerArgUnsetCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "unset",
        abstract: "Remove kube-apiserver flags from the agent's drop-in, restart K3s and verify it; roll back if it fails.",
        discussion: """
            Operators may unset the flags they may set (see aiosctl k3s apiserver-arg set --help); every other \
            flag needs root, and the issuer is removed with aiosctl workload-identity disable.
            """)

    @Argument(help: ArgumentHelp("kube-apiserver flag names, e.g. audit-log-maxage", valueName: "flag"))
    var flags: [String]

    @Flag(name: .long, help: "Rewrite the agent's drop-in even if it was edited by hand since aiosd last wrote it (the hand-edited entries are kept as entries; other settings are never dropped).")
    var force = false

    @Flag(name: .long, help: "Make the change on every server of the cluster, one at a time, through the cluster (see: aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .long }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sChangeOutcome {
        let request = APIServerArgsEditRequest(unset: flags, force: force ? true : nil, allServers: allServers ? true : nil)
        if allServers { return .rollout(try RolloutProgress.request(API.apiServerArgsEditAllServers, request, client: client, output: output)) }
        return .host(try JobProgress.run(API.apiServerArgsEdit, request, client: client, output: output))
    }

    func render(_ outcome: K3sChangeOutcome, wide: Bool) -> String { outcome.render(done: "kube-apiserver arguments changed") }
}
