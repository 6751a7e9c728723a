import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl workload-identity enable --issuer URL`: one safe, verified, reversible change to K3s.
struct WorkloadIdentityEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Make K3s' API server sign service-account tokens with ISSUER (keeping the previous issuer valid).",
        discussion: """
            Writes service-account-issuer=ISSUER first and the previous issuer second, and \
            service-account-max-token-expiration, to /etc/rancher/k3s/config.yaml.d/90-aios.yaml; restarts \
            k3s.service; waits for /readyz; and checks the API server serves ISSUER. If any of that fails, the \
            previous file is restored and K3s restarted again. Enabling the same issuer again changes nothing. \
            Refuses, naming the file and line, when another file sets an issuer, when a later drop-in replaces the \
            list, or when the k3s unit's command line overrides the files. Get ISSUER with: \
            az connectedk8s show -g RG -n CLUSTER --query oidcIssuerProfile.issuerUrl -o tsv
            """)

    @Option(name: .long, help: ArgumentHelp("The cluster's OIDC issuer URL, exactly as Azure Arc reports it (trailing slash included).", valueName: "url"))
    var issuer: String

    @Option(name: .long, help: ArgumentHelp("Longest lifetime of a service-account token.", valueName: "duration"))
    var maxTokenExpiration: String = "24h"

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let body = Array(try APICoding.encoder().encode(WorkloadIdentityEnableRequest(issuer: issuer, maxTokenExpiration: maxTokenExpiration)))
        do {
            guard let response = try JobProgress.run(.workloadIdentityEnable, body: body, as: K3sChangeResponse.self, global: global,
                                                     defaultTimeout: 900) else { return }
            Output.print(Output.summary(response, done: "Workload identity enabled"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
