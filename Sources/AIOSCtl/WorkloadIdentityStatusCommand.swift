import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl workload-identity status`: configured vs served issuer and the `az` command to federate.
struct WorkloadIdentityStatusCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the issuer K3s is configured with, the one its API server runs with and serves, and the az command that federates the agent's identity.")

    @Flag(name: .long, help: "Show the cluster's last change across all servers instead: each server's state and times (as aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .k3sRead }

    func run(client: ControlClient, output: CommandOutput) throws -> OneOf<WorkloadIdentityStatusResponse, K3sRolloutResponse> {
        allServers ? .second(try client.call(API.k3sRollout)) : .first(try client.call(API.workloadIdentityStatus))
    }

    func render(_ result: OneOf<WorkloadIdentityStatusResponse, K3sRolloutResponse>, wide: Bool) -> String {
        switch result {
        case .first(let status): Self.summary(status)
        case .second(let rollout): RolloutProgress.table(rollout)
        }
    }

    static func summary(_ status: WorkloadIdentityStatusResponse) -> String {
        var lines = ["workload identity: \(status.enabled ? "enabled" : "not enabled")"]
        lines.append("configured issuers (the first signs new tokens):")
        lines += status.configuredIssuers.map { "  \($0.value)    # \($0.from)" }
        if let running = status.runningIssuers {
            lines.append("running issuers (K3s' last start of its API server):")
            lines += running.map { "  \($0)" }
        } else {
            lines.append("running issuers: unknown (no 'Running kube-apiserver' line in K3s' journal)")
        }
        if status.restartPending == true {
            lines.append("  the configuration is not applied yet: K3s has not been restarted since it changed (aiosctl k3s restart)")
        }
        if let served = status.servedIssuer {
            lines.append("served issuer: \(served)")
            if served != status.configuredIssuers.first?.value && status.restartPending != true {
                lines.append("  differs from the configuration: K3s has not been restarted since it changed (aiosctl k3s restart)")
            }
        } else {
            lines.append("served issuer: unknown (\(status.servedIssuerError ?? "the API server did not answer"))")
        }
        lines.append("max token expiration: \(status.maxTokenExpiration.map { "\($0.value)    # \($0.from)" } ?? "K3s default")")
        lines.append("service account: \(status.serviceAccount) (subject \(status.subject), audience \(status.audience))")
        lines.append("federate it with:")
        lines.append("  \(status.federatedCredentialCommand)")
        return lines.joined(separator: "\n")
    }
}
