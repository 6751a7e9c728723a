import AIOSAPI
import AIOSCore
import FoundationEssentials
import Glibc

/// `GET /v1/status`.
struct StatusHandler: APIMethodHandler {
    let method = API.status
    let state: DaemonState
    let sync: SecretSyncRunner
    let jobs: JobStore
    /// K3s' issuer as its change workflow reads it (files, journal, discovery document).
    let k3s: @Sendable () -> K3sChangeWorkflow
    /// K3s' files, journal and API server are read there (not on the host-job queue: status answers while a K3s
    /// restart runs).
    let io: BlockingPool

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let snapshot = state.current
        let configuration = state.configuration, workflow = k3s()
        // Reads K3s' files and journal and asks its API server: off the event loop, and not on the host-job queue
        // (status must answer while a K3s restart runs).
        let k3sHealth = try await io.reply { HostHealthReport.k3s(workflow: workflow, kubeconfigPath: configuration.sync.kubeconfig) }
        let now = Date()
        let watchdog = state.watchdogInterval.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        return reply(StatusResponse(
            version: AgentVersion.current,
            pid: getpid(),
            startedAt: state.startedAt,
            uptimeSeconds: (now.timeIntervalSince(state.startedAt) * 1000).rounded() / 1000,
            configPath: state.configPath,
            configLoadedAt: snapshot.configLoadedAt,
            lastReload: snapshot.lastReload,
            socketPath: state.socketPath,
            socketActivated: snapshot.socketActivated,
            underSystemd: state.underSystemd,
            watchdogSeconds: watchdog,
            services: snapshot.services.values.sorted { $0.name < $1.name },
            sync: SyncHealthReport.sync(sync, now: now), clusterWatch: SyncHealthReport.clusterWatch(sync),
            hostJobs: SyncHealthReport.hostJobs(jobs), k3s: k3sHealth,
            workloadIdentity: HostHealthReport.identity(configuration.identity, k3s: k3sHealth),
            cluster: sync.election.map(\.clusterRole)))
    }
}
