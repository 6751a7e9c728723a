import AIOSCore
@testable import AIOSDaemon
import AIOSSystemd
import Foundation
import Logging
import NIOPosix
import Synchronization
import Testing
import AIOSTestSupport

/// The watchdog pings only while the control server's event loop answers: a loop wedged by a handler stops the
/// pings (systemd then restarts aiosd) although every other thread of the process still runs.
@Suite struct WatchdogServiceTests {
    /// Polls until the tests' answer deadline (other tests may keep the machine busy for a while).
    func waitUntil(_ condition: () -> Bool) async throws {
        _ = try await Poll.until(condition)
    }

    @Test func pingsStopWhileTheEventLoopIsBlockedAndResumeAfter() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pings = Mutex(0)
        let state = DaemonState(configPath: "/dev/null", socketPath: "/dev/null", configuration: AgentConfiguration(), underSystemd: true,
                                watchdogInterval: .milliseconds(100))
        let service = WatchdogService(settings: WatchdogSettings(interval: .milliseconds(100)), eventLoop: group.next(),
                                      ping: { pings.withLock { $0 += 1 } }, state: state,
                                      logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await service.run() }
        // A control: a task that sleeps like the ping loop does. On a loaded machine (the suite runs in parallel) the
        // ping loop may not run at all for a while; "no ping while wedged" means something only once this ticked.
        let ticks = Mutex(0)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                ticks.withLock { $0 += 1 }
            }
        }

        try await waitUntil { pings.withLock { $0 } >= 3 }
        #expect(pings.withLock { $0 } >= 3, "pings every 50 ms while the loop answers")

        // Wedge the event loop alone: this test's threads and the cooperative pool keep running.
        let release = DispatchSemaphore(value: 0)
        let wedged = Mutex(false)
        group.next().execute {
            wedged.withLock { $0 = true }
            release.wait()
        }
        try await waitUntil { wedged.withLock { $0 } }
        // A ping whose answer from the loop came just before the wedge may still be sent; none after it.
        let whileBlocked = pings.withLock { $0 } + 1
        let ticksAtWedge = ticks.withLock { $0 }
        try await Task.sleep(for: .milliseconds(500))
        // At least ten ping intervals' worth of sleeps ran while the loop was wedged (a ping loop that did not ask the
        // loop would have pinged about as often).
        try await waitUntil { ticks.withLock { $0 } >= ticksAtWedge + 10 }
        #expect(ticks.withLock { $0 } >= ticksAtWedge + 10, "the control task ran while the loop was wedged")
        #expect(pings.withLock { $0 } <= whileBlocked, "no ping while the event loop is wedged")

        let atRelease = pings.withLock { $0 }
        release.signal()
        try await waitUntil { pings.withLock { $0 } > atRelease }
        #expect(pings.withLock { $0 } > atRelease, "pings resume once the loop answers again")
        ticker.cancel()
        task.cancel()
        _ = try? await task.value
        try await group.shutdownGracefully()
    }
}
