import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s apiserver-arg set FLAG=VALUE...`.
struct APIServerArgSetCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set kube-apiserver flags in the agent's drop-in, restart K3s and verify it; roll back if it fails.",
        discussion: """
            Each FLAG must be a kube-apiserver flag (without --); a flag given several times keeps every value, in \
            order, and replaces the values the drop-in had for it. Values may not contain newlines or other \
            control characters. A refused edit changes nothing; setting what is already set restarts nothing.

            Operators (control.adminGroup) may set only: api-audiences, audit-log-maxage, audit-log-maxbackup, \
            audit-log-maxsize, default-not-ready-toleration-seconds, default-unreachable-toleration-seconds, \
            max-mutating-requests-inflight, max-requests-inflight, min-request-timeout, request-timeout, and \
            service-account-max-token-expiration from 1h to 24h; the issuer through `aiosctl workload-identity`. \
            Every other flag needs root (uid 0 or control.k3sAdminGroup); a refusal exits 4. A flag naming a \
            file is accepted, for root too, only if the file and every directory above it are owned by root, \
            not group/world-writable, with no symbolic link.
            """)

    @Argument(help: ArgumentHelp("kube-apiserver flags, e.g. audit-log-maxage=30", valueName: "flag=value"))
    var arguments: [String]

    @Flag(name: .long, help: "Rewrite the agent's drop-in even if it was edited by hand since aiosd last wrote it (the hand-edited entries are kept as entries; other settings are never dropped).")
    var force = false

    @Flag(name: .long, help: "Make the change on every server of the cluster, one at a time, through the cluster (see: aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let bad = arguments.first(where: { !$0.contains("=") || $0.hasPrefix("=") }) {
            throw ValidationError("'\(bad)' is not FLAG=VALUE")
        }
    }

    static var timeout: DefaultTimeout { .long }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sChangeOutcome {
        let request = APIServerArgsEditRequest(set: arguments, force: force ? true : nil, allServers: allServers ? true : nil)
        if allServers { return .rollout(try RolloutProgress.request(API.apiServerArgsEditAllServers, request, client: client, output: output)) }
        return .host(try JobProgress.run(API.apiServerArgsEdit, request, client: client, output: output))
    }

    func render(_ outcome: K3sChangeOutcome, wide: Bool) -> String { outcome.render(done: "kube-apiserver arguments changed") }
}
