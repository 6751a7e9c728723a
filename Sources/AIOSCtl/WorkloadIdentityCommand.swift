import ArgumentParser

/// `aiosctl workload-identity ...`.
struct WorkloadIdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload-identity",
        abstract: "Workload identity on the K3s API server (the service-account issuer Entra ID trusts).",
        subcommands: [WorkloadIdentityStatusCommand.self, WorkloadIdentityEnableCommand.self, WorkloadIdentityDisableCommand.self])
}
