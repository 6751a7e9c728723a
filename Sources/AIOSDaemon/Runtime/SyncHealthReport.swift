import AIOSAPI
import AIOSCore
import FoundationEssentials

/// The health summaries of `GET /v1/status`: secret sync, the cluster watch and host jobs, as fields.
enum SyncHealthReport {
    /// Expiries this close count as "expiring soon" (the first warning threshold).
    static let soon: TimeInterval = Double(ExpiryWarnings.thresholdDays[0]) * 86400

    static func summary(_ report: SyncCycleReport, reason: String) -> SyncCycleSummary {
        var results = Dictionary(grouping: report.outcomes, by: \.result.rawValue).mapValues(\.count)
        if !report.invalidDefinitions.isEmpty { results["invalid"] = report.invalidDefinitions.count }
        return SyncCycleSummary(startedAt: report.startedAt, finishedAt: report.finishedAt,
                                durationSeconds: (report.finishedAt.timeIntervalSince(report.startedAt) * 1000).rounded() / 1000,
                                reason: reason, outcome: report.failed ? .failed : .ok, results: results)
    }

    static func sync(_ runner: SecretSyncRunner, now: Date = Date()) -> SyncHealth {
        let statuses = runner.engine.allStatuses
        var failing = 0, expiringSoon = 0, expired = 0
        for status in statuses {
            if SecretWire.isFailing(status) { failing += 1 }
            guard let expires = status.objects.compactMap({ $0.expires }).min() else { continue }
            let left = Double(expires) - now.timeIntervalSince1970
            if left <= 0 { expired += 1 } else if left <= soon { expiringSoon += 1 }
        }
        return SyncHealth(secrets: statuses.count, failing: failing, expiringSoon: expiringSoon, expired: expired,
                          running: runner.isRunning, lastCycle: runner.lastCycle, nextCycleAt: runner.nextCycleAt,
                          failedCyclesInARow: runner.failedCyclesInARow, failedCycles: runner.failedCycles)
    }

    static func clusterWatch(_ runner: SecretSyncRunner) -> ClusterWatchHealth {
        let definitions = runner.allDefinitions()
        return ClusterWatchHealth(watching: definitions.clusterNote == nil, selected: definitions.selectedSyncs.count,
                                  note: definitions.clusterNote)
    }

    static func hostJobs(_ store: JobStore) -> HostJobsHealth {
        let jobs = store.list()
        return HostJobsHealth(running: jobs.filter { $0.state == .running }.count, queued: jobs.filter { $0.state == .queued }.count,
                              lastFinished: jobs.filter { $0.finishedAt != nil }.max { $0.finishedAt! < $1.finishedAt! })
    }
}
