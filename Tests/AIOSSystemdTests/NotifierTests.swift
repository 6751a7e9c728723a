import AIOSSystemd
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// The notifier against a real datagram socket set as NOTIFY_SOCKET, the way systemd listens.
/// Serialized: NOTIFY_SOCKET is process-wide.
@Suite(.serialized) struct NotifierTests {
    private func withNotifySocket(_ body: (NotifyListener) throws -> Void) throws {
        let directory = try TemporaryDirectory(prefix: "notify")
        defer { directory.remove() }
        let listener = try NotifyListener(path: directory.file("notify.sock"))
        setenv("NOTIFY_SOCKET", listener.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        try body(listener)
    }

    @Test func readyCarriesStatus() throws {
        try withNotifySocket { listener in
            Notifier().ready(status: "Running; control socket /run/aiosd/aiosd.sock")
            let message = try #require(listener.receive(timeout: TestDeadline.answer))
            #expect(message == ["READY=1", "STATUS=Running; control socket /run/aiosd/aiosd.sock"])
        }
    }

    @Test func reloadSequence() throws {
        try withNotifySocket { listener in
            let notifier = Notifier()
            notifier.reloading(status: "Reloading")
            notifier.ready(status: "Running")
            let reloading = try #require(listener.receive(timeout: TestDeadline.answer))
            #expect(reloading.first == "RELOADING=1")
            let monotonic = try #require(reloading.first { $0.hasPrefix("MONOTONIC_USEC=") })
            let microseconds = try #require(UInt64(monotonic.dropFirst("MONOTONIC_USEC=".count)))
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            // Close to now on the monotonic clock: systemd ≥ 253 matches it against the reload request.
            let nowMicroseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
            #expect(abs(nowMicroseconds - Int64(microseconds)) < 5_000_000)
            #expect(reloading.contains("STATUS=Reloading"))
            #expect(listener.receive(timeout: TestDeadline.answer) == ["READY=1", "STATUS=Running"])
        }
    }

    @Test func stoppingAndWatchdog() throws {
        try withNotifySocket { listener in
            let notifier = Notifier()
            notifier.watchdogPing()
            notifier.stopping(status: "Shutting down")
            #expect(listener.receive(timeout: TestDeadline.answer) == ["WATCHDOG=1"])
            #expect(listener.receive(timeout: TestDeadline.answer) == ["STOPPING=1", "STATUS=Shutting down"])
        }
    }

    @Test func statusIsOneLine() throws {
        try withNotifySocket { listener in
            Notifier().status("line one\nREADY=1")
            // A newline in a status must not smuggle in a second assignment.
            #expect(listener.receive(timeout: TestDeadline.answer) == ["STATUS=line one READY=1"])
        }
    }

    @Test func noSocketMeansNoOp() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = Notifier()
        #expect(!notifier.isEnabled)
        notifier.ready(status: "nobody listens")  // must not crash or block
    }

    @Test func watchdogFromEnvironment() {
        setenv("WATCHDOG_USEC", "30000000", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        let settings = WatchdogSettings.fromEnvironment()
        #expect(settings?.interval == .seconds(30))
        #expect(settings?.pingInterval == .seconds(15))

        // A watchdog meant for another process (WATCHDOG_PID) is not ours to ping.
        setenv("WATCHDOG_PID", String(getpid() + 1), 1)
        #expect(WatchdogSettings.fromEnvironment() == nil)
    }
}
