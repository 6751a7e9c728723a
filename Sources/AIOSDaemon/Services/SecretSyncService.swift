import AIOSAPI
import AIOSCore
import FoundationEssentials
import Glibc
import Logging
import ServiceLifecycle
import Synchronization

/// The sync schedule: a cycle at start, then every `sync.interval` plus a random delay of up to `sync.jitter`;
/// after a failed cycle the next comes sooner (`sync.retryAfterFailure`, doubling up to the interval). A reload that
/// changes these values applies to the wait in progress.
struct SecretSyncService: Service {
    static let serviceName = "secret-sync"
    static let scheduleReason = "schedule"

    let runner: SecretSyncRunner
    let state: DaemonState
    let logger: Logger
    /// Lets K3s and the network settle after boot.
    var firstCycleDelay = Duration.seconds(2)

    func run() async throws {
        let clock = ContinuousClock()
        var deadline = clock.now + firstCycleDelay
        var lastFinished: ContinuousClock.Instant?
        state.setService(Self.serviceName, .running, detail: "first sync in \(DurationParser.format(firstCycleDelay))")
        runner.nextCycleAt = Date().addingTimeInterval(Self.seconds(firstCycleDelay))
        // Every cycle, not only the scheduled ones, is reflected in the status line (a failed `aiosctl sync` too).
        let runner = self.runner, state = self.state
        runner.onCycleFinished { report, reason in
            state.setService(Self.serviceName, .running, detail: Self.describe(
                report, reason: reason, failedInARow: runner.failedCyclesInARow, next: runner.nextCycleAt, controller: runner.controllerSeen))
        }
        let wakeup = Wakeup()
        runner.onScheduleChanged { wakeup.fire() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            switch await Self.wait(until: deadline, wakeup: wakeup) {
            case .shutdown:
                runner.nextCycleAt = nil
                state.setService(Self.serviceName, .stopped)
                return
            case .rescheduled:
                // `sync.interval`, `jitter` or `retryAfterFailure` changed by a reload: the wait since the last cycle is
                // measured with the new values now, not after the old interval ran out.
                guard let lastFinished else { continue }
                let delay = Self.nextDelay(failures: runner.failedCyclesInARow, sync: runner.configuration().sync)
                deadline = lastFinished + delay
                runner.nextCycleAt = Date().addingTimeInterval(Self.seconds(deadline - clock.now))
                logger.notice("Sync schedule changed", metadata: ["sync.next_in": "\(DurationParser.format(max(.zero, deadline - clock.now)))"])
                continue
            case .elapsed:
                break
            }
            if Task.isShuttingDownGracefully { break }
            // Cancelled only when the shutdown ran out of time: the cycle in progress is abandoned.
            guard let report = try? await runner.cycle(force: false, reason: Self.scheduleReason) else { break }
            lastFinished = clock.now
            // Failed cycles in a row of any origin: a failed manual sync shortens the wait as a scheduled one does.
            let delay = Self.nextDelay(failures: runner.failedCyclesInARow, sync: runner.configuration().sync)
            deadline = clock.now + delay
            runner.nextCycleAt = Date().addingTimeInterval(Self.seconds(delay))
            state.setService(Self.serviceName, .running, detail: Self.describe(
                report, reason: Self.scheduleReason, failedInARow: runner.failedCyclesInARow, next: runner.nextCycleAt,
                controller: runner.controllerSeen))
        }
        runner.nextCycleAt = nil
        state.setService(Self.serviceName, .stopped)
    }

    enum WaitResult: Sendable { case elapsed, rescheduled, shutdown }

    /// Ends the wait in progress (a stream per wait, so a cancelled wait never swallows the next one's wake-up).
    final class Wakeup: Sendable {
        let current = Mutex<AsyncStream<Void>.Continuation?>(nil)
        func fire() { _ = current.withLock { $0 }?.yield() }
    }

    /// Sleeps until `deadline`, or less: a schedule change (`wakeup` is yielded to) or a graceful shutdown ends it.
    static func wait(until deadline: ContinuousClock.Instant, wakeup: Wakeup) async -> WaitResult {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeup.current.withLock { $0 = continuation }
        defer { wakeup.current.withLock { $0 = nil } }
        let result = try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: WaitResult.self) { group in
                group.addTask {
                    do { try await Task.sleep(until: deadline, clock: .continuous); return .elapsed } catch { return .shutdown }
                }
                group.addTask {
                    for await _ in stream { return .rescheduled }
                    return .shutdown
                }
                let first = await group.next() ?? .shutdown
                group.cancelAll()
                return first
            }
        }
        if Task.isShuttingDownGracefully || Task.isCancelled { return .shutdown }
        return result ?? .shutdown
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

    /// The status line: the last cycle whatever started it, failed cycles in a row, and the next scheduled one.
    static func describe(_ report: SyncCycleReport, reason: String, failedInARow: Int, next: Date?, controller: String? = nil,
                         now: Date = Date()) -> String {
        // The counts of the moment are in status' sync section; this line is about the cycles.
        let when = APICoding.iso8601(report.finishedAt)
        let outcome = report.failed ? "failed" + (failedInARow > 1 ? " (\(failedInARow) failed in a row)" : "") : "ok"
        let upcoming = next.map { "; next scheduled in \(DurationText.format(seconds: max(0, $0.timeIntervalSince(now))))" } ?? ""
        let standDown = controller.map { "; SecretSyncs left to the Secret Store extension (\($0))" } ?? ""
        return "last sync \(when) (\(reason)) \(outcome)\(upcoming)\(standDown)"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
