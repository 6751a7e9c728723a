import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl workload-identity enable --issuer URL`: one safe, verified, reversible change to K3s.
struct WorkloadIdentityEnableCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Make K3s' API server sign service-account tokens with ISSUER (keeping the previous issuer valid).",
        discussion: """
            Writes service-account-issuer=ISSUER first and the previous issuer second, and \
            service-account-max-token-expiration, to 90-aios.yaml in K3s' drop-in directory (config.yaml.d next to \
            the configuration file K3s reads: K3S_CONFIG_FILE, else --config/-c, else /etc/rancher/k3s/config.yaml); \
            restarts k3s.service; waits for /readyz (k3s.readyTimeout); and checks the API server serves ISSUER. If \
            the restart or a check fails, the previous file is restored and K3s restarted again; if the write fails, \
            nothing is restarted. Enabling an issuer K3s already has (by aiosd or by hand) changes nothing. Refuses, \
            before touching anything, on a host without a K3s server or on an agent node, when another file sets \
            another issuer, when a later drop-in replaces the list, when the unit's command line overrides the \
            files, when 90-aios.yaml holds settings aiosd did not write, or (without --force) was edited by hand \
            since aiosd last wrote it. Get ISSUER with: \
            az connectedk8s show -g RG -n CLUSTER --query oidcIssuerProfile.issuerUrl -o tsv
            """)

    @Option(name: .long, help: ArgumentHelp("The cluster's OIDC issuer URL, exactly as Azure Arc reports it (trailing slash included).", valueName: "url"))
    var issuer: String

    @Option(name: .long, help: ArgumentHelp("Longest lifetime of a service-account token (default: one already configured in K3s' files, else 24h).", valueName: "duration"))
    var maxTokenExpiration: String?

    @Flag(name: .long, help: "Rewrite the agent's drop-in even if it was edited by hand since aiosd last wrote it (the hand-edited entries are kept as entries; other settings are never dropped).")
    var force = false

    @Flag(name: .long, help: "Make the change on every server of the cluster, one at a time, through the cluster (see: aiosctl k3s rollout).")
    var allServers = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .long }

    func run(client: ControlClient, output: CommandOutput) throws -> K3sChangeOutcome {
        let request = WorkloadIdentityEnableRequest(issuer: issuer, maxTokenExpiration: maxTokenExpiration, force: force ? true : nil,
                                                    allServers: allServers ? true : nil)
        if allServers { return .rollout(try RolloutProgress.request(API.workloadIdentityEnableAllServers, request, client: client, output: output)) }
        return .host(try JobProgress.run(API.workloadIdentityEnable, request, client: client, output: output))
    }

    func render(_ outcome: K3sChangeOutcome, wide: Bool) -> String { outcome.render(done: "Workload identity enabled") }
}
