import AIOSAPI
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
        runner.nextCycleAt = Date().addingTimeInterval(Self.seconds(delay))
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
            runner.nextCycleAt = Date().addingTimeInterval(Self.seconds(delay))
            state.setService(Self.serviceName, .running, detail: Self.describe(report, next: delay, controller: runner.controllerSeen))
        }
        runner.nextCycleAt = nil
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
        // The counts of the moment are in status' sync section; this line is about the schedule alone.
        let when = APICoding.iso8601(report.finishedAt)
        let standDown = controller.map { "; SecretSyncs left to the Secret Store extension (\($0))" } ?? ""
        return "last scheduled sync \(when) \(report.failed ? "failed" : "ok"); next in \(DurationText.format(seconds: seconds(next)))\(standDown)"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
