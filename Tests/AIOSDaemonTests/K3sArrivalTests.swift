@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Synchronization
import Testing

/// The wait of the services that have nothing to do until K3s arrives: it ends on an announcement, and the
/// inotify watch announces when a file appears where K3s puts its unit or kubeconfig.
@Suite(.offCooperativePool)
struct K3sArrivalTests {
    final class Count: Sendable {
        let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var current: Int { value.withLock { $0 } }
    }

    @Test func anAnnouncementEndsEveryWaitAtOnce() async throws {
        let arrival = K3sArrival()
        let ended = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    await arrival.wait(upTo: .seconds(120))
                    ended.add()
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(ended.current == 0, "no wait ends before the announcement or its interval")
            let start = ContinuousClock.now
            // The waiters register asynchronously: announce until all have ended (each announcement ends the waits
            // registered by then).
            while ended.current < 3 && ContinuousClock.now - start < TestDeadline.answer {
                arrival.announce()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ended.current == 3)
            #expect(ContinuousClock.now - start < TestDeadline.answer)
        }
    }

    @Test func aWaitEndsAfterItsIntervalWithoutAnnouncement() async {
        let start = ContinuousClock.now
        await K3sArrival().wait(upTo: .milliseconds(100))
        #expect(ContinuousClock.now - start >= .milliseconds(100))
    }

    @Test func theWatchReportsAFileCreatedInAWatchedDirectoryAndStops() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("k3s-arrival-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let watch = try #require(DirectoryWatch(directories: [directory, directory + "/missing"]))
        #expect(watch.watched == [directory], "a missing directory is skipped")
        let changes = Count()
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            watch.run { changes.add() }
            finished.signal()
        }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(changes.current == 0, "nothing changed yet")
        FileManager.default.createFile(atPath: directory + "/k3s.service", contents: Data("[Unit]\n".utf8))
        let deadline = ContinuousClock.now + TestDeadline.answer
        while changes.current == 0 && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(changes.current >= 1, "creating k3s.service is reported")
        watch.stop()
        #expect(finished.wait(timeout: .now() + .seconds(30)) == .success, "stop() ends run()")
    }

    @Test func theKubeconfigDirectory() {
        #expect(K3sArrivalWatchService.directory(of: "/etc/rancher/k3s/k3s.yaml") == "/etc/rancher/k3s")
        #expect(K3sArrivalWatchService.directory(of: "/k3s.yaml") == "/")
        #expect(K3sArrivalWatchService.directory(of: "k3s.yaml") == ".")
    }
}
