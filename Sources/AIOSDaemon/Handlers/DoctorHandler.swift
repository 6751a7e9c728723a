import AIOSAPI
import AIOSCore
import FoundationEssentials
import Glibc

/// `GET /v1/doctor`: checks the host's prerequisites (config, K3s, workload identity, Entra ID, the vaults, the
/// clock, disk space, SecretSync selection) on a thread of the I/O pool (every probe blocks) and judges them.
struct DoctorHandler: APIMethodHandler {
    let method = API.doctor
    let state: DaemonState
    let sync: SecretSyncRunner
    let operations: HostOperations
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let state = self.state, sync = self.sync, k3s = operations.k3s()
        let findings = try await io.reply { Doctor.findings(Self.facts(state: state, sync: sync, k3s: k3s)) }
        return reply(DoctorResponse(ok: !findings.contains { $0.status == .fail },
                                    findings: findings.map { .init(check: $0.check, status: DoctorStatus(rawValue: $0.status.rawValue) ?? .fail, detail: $0.detail, fix: $0.fix) }))
    }

    static func facts(state: DaemonState, sync: SecretSyncRunner, k3s: K3sChangeWorkflow) -> DoctorFacts {
        let configuration = state.configuration
        var facts = DoctorFacts(configPath: state.configPath, kubeconfigPath: configuration.sync.kubeconfig, identity: configuration.identity,
                                stateDirectory: Defaults.stateDirectory, secretSyncSelection: configuration.cluster)
        do {
            _ = try ConfigurationLoader().load(path: state.configPath)
        } catch {
            facts.configError = "\(error)"
        }
        let definitions = sync.allDefinitions()
        facts.invalidDefinitions = definitions.invalidFiles.map { "\($0.error)" } + definitions.invalidCluster.map(\.issue.message)
        DoctorClusterProbe.probe(configuration: configuration, into: &facts)
        if facts.kubeconfigError == nil, let status = try? k3s.issuerStatus() {
            // nil when K3s runs with its default issuer (what Doctor calls "not configured").
            facts.configuredIssuer = status.configuredIssuers.first.flatMap { $0.from == "K3s default" ? nil : $0.value }
            facts.maxTokenExpiration = status.maxTokenExpiration?.value
            facts.runningIssuers = status.runningIssuers
            if let issuer = facts.configuredIssuer { facts.discovery = DoctorHostProbe.discovery(issuer: issuer) }
        }
        facts.definitionsDirectory = configuration.sync.definitions
        // From inside aiosd's sandbox: its state, the definitions `secret add` writes, K3s' drop-in directory.
        facts.writable = DoctorHostProbe.writable([Defaults.stateDirectory, configuration.sync.definitions]
                                                  + [(try? k3s.runConfiguration())?.dropInDirectory].compactMap { $0 })
        DoctorAzureProbe.probe(definitions: definitions.all, configuration: configuration, connections: sync.engine.connections, into: &facts)
        var space = statvfs()
        if statvfs(Defaults.stateDirectory, &space) == 0 { facts.freeBytes = UInt64(space.f_bavail) * UInt64(space.f_frsize) }
        facts.unselectedSecretSyncs = sync.unselectedSecretSyncs()
        return facts
    }
}
