import AIOSAPI
import AIOSClient
import AIOSCore
import AIOSSystemd
@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Glibc
import Logging

/// Runs a real `Daemon` in this process on a temporary socket, for server+client tests (tailscale's lapitest style).
struct DaemonHarness {
    let directory: TemporaryDirectory
    let socketPath: String
    let configPath: String

    /// `body` runs off the cooperative pool: it makes blocking calls (libcurl, poll), and the daemon's own tasks
    /// need the pool to answer them.
    /// `firstSync`: when the schedule's first cycle runs (a test that must see the state before any cycle, whatever
    /// the machine's load, pushes it out of the test's reach).
    static func withDaemon(config: String = "", firstSync: Duration = .seconds(2), _ body: @escaping @Sendable (DaemonHarness) throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "aiosd")
        defer { directory.remove() }
        // Other uids (setpriv tests) must be able to reach the socket inside.
        chmod(directory.path, 0o755)
        let configPath = try directory.write("aiosd.yaml", config)
        let harness = DaemonHarness(directory: directory, socketPath: directory.file("aiosd.sock"), configPath: configPath)
        let configuration = try ConfigurationLoader().load(path: configPath)
        let state = DaemonState(configPath: configPath, socketPath: harness.socketPath, configuration: configuration,
                                underSystemd: false, watchdogInterval: nil)
        let logger = Logger(label: "aiosd-test") { _ in SwiftLogNoOpLogHandler() }
        let jobsPath = directory.file("jobs.json")
        let daemon = Task { try await Daemon(state: state, notifier: Notifier(enabled: false), logger: logger, jobsPath: jobsPath,
                                                        syncStatePath: directory.file("sync-state.json"),
                                                        contentHashKeyPath: directory.file("content-hash.key"),
                                                        firstSyncDelay: firstSync).run() }
        defer { daemon.cancel() }
        try await offCooperativePool {
            try harness.waitUntilServing()
            try body(harness)
        }
        daemon.cancel()
        _ = await daemon.result
    }

    /// A deadline, not a wait: answers come in milliseconds; 30 s leaves room for a 2-core machine running the
    /// whole suite in parallel (5 s was missed there). Tests of timeouts use clients of their own.
    var client: ControlClient { ControlClient(socketPath: socketPath, timeout: .seconds(30)) }

    /// Polls until the socket answers, then makes one request that the server closes: answered, the server has
    /// also seen the probes' connections end (before it), so none still counts against the connection caps.
    func waitUntilServing() throws {
        // A deadline, not a count of tries: on a loaded machine one try can take long.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? client.call(.version)) != nil {
                let last = try UnixSocket(connectingTo: socketPath)
                try last.send("GET /v1/version HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
                guard last.readAll(timeout: .seconds(30)).closed else { throw POSIXError(.ETIMEDOUT) }
                return
            }
            usleep(10_000)
        }
        throw POSIXError(.ETIMEDOUT)
    }

    /// Runs the real aiosctl as another user with setpriv (needs root).
    func aiosctl(as user: String, group: String, _ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/setpriv", [
            "--reuid=\(user)", "--regid=\(group)", "--clear-groups", "--",
            BuiltProducts.aiosctl, "--socket", socketPath,
        ] + arguments, environment: cleanEnvironment())
    }
}
