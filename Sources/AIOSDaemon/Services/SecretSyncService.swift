import AIOSCore
import Foundation
import Logging
import ServiceLifecycle

/// The sync schedule: a cycle at start, then every `sync.interval` plus a random delay of up to `sync.jitter`;
/// after a failed cycle the next comes sooner (`sync.retryAfterFailure`, doubling up to the interval).
struct SecretSyncService: Service {
    static let serviceName = "secret-sync"
    static let scheduleReason = "schedule"

    let runner: SecretSyncRunner
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        var failures = 0
        var delay = Duration.seconds(2)  // let K3s and the network settle after boot
        state.setService(Self.serviceName, .running, detail: "first sync in 2s")
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let wait = delay
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                break
            }
            if Task.isShuttingDownGracefully { break }
            let report = await runner.cycle(force: false, reason: Self.scheduleReason)
            failures = report.failed ? failures + 1 : 0
            delay = Self.nextDelay(failures: failures, sync: runner.configuration().sync)
            state.setService(Self.serviceName, .running, detail: Self.describe(report, next: delay, controller: runner.controllerSeen))
        }
        state.setService(Self.serviceName, .stopped)
    }

    /// The wait before the next cycle: after `failures` failed cycles in a row `retryAfterFailure` doubled per
    /// failure, at most `interval`; after a success `interval` plus `random` × `jitter`, so hosts do not sync in step.
    static func nextDelay(failures: Int, sync: SyncConfiguration, random: () -> Double = { Double.random(in: 0...1) }) -> Duration {
        let seconds: Double
        if failures > 0 {
            seconds = min(Self.seconds(sync.retryAfterFailure) * pow(2, Double(min(failures - 1, 10))), Self.seconds(sync.interval))
        } else {
            seconds = Self.seconds(sync.interval) + Self.seconds(sync.jitter) * random()
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    static func describe(_ report: SyncCycleReport, next: Duration, controller: String? = nil) -> String {
        let failed = report.outcomes.filter { $0.result == .failed }.count + report.invalidDefinitions.count
        let total = report.outcomes.count
        let when = ISO8601DateFormatter().string(from: report.finishedAt)
        let standDown = controller.map { "; SecretSyncs left to the Secret Store extension (\($0))" } ?? ""
        return "\(total) secret(s), \(failed) failing; last sync \(when); next in \(DurationParser.format(next))\(standDown)"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
