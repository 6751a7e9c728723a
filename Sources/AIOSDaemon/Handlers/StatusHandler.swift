import AIOSAPI
import Foundation

/// `GET /v1/status`.
struct StatusHandler: APIHandler {
    let endpoint = Endpoint.status
    let state: DaemonState
    let sync: SecretSyncRunner
    let jobs: JobStore

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let snapshot = state.current
        let now = Date()
        let watchdog = state.watchdogInterval.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        return .json(StatusResponse(
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
            hostJobs: SyncHealthReport.hostJobs(jobs), cluster: sync.election.map(\.clusterRole)))
    }
}
