import AIOSAPI
import AIOSClient
@testable import AIOSCore
@testable import AIOSDaemon
import AIOSSystemd
import AIOSTestSupport
import Foundation
import Logging
import NIOPosix
import Testing

/// `aiosctl sync --wait` over a vault whose list pass takes longer than `control.idleTimeout` (a first sync of a
/// large vault: no definition finishes meanwhile, so no progress event is sent). The control server must keep the
/// stream alive with `keepAlive` lines; before them it closed the connection as idle after 60 s and aiosctl failed
/// with "accepted the connection but did not answer". Nor may it close a connection whose request is still being
/// handled (a plain `wait` answered at the cycle's end, or a reply slow to start on a loaded machine).
extension SecretSyncRunnerTests {
    @Test func aListPassLongerThanTheIdleTimeoutDoesNotCutSyncWait() async throws {
        let h = try SyncHarness()
        h.configuration.control.idleTimeout = .seconds(1)
        let runner = runner(h)
        h.vaults.slowList("kv-one", by: .seconds(3))
        try await withSyncServer(h, runner, definitions: 1) { socketPath in
        // On the wire: keep-alive lines while the list pass is silent, then the outcome.
        let socket = try UnixSocket(connectingTo: socketPath)
        let body = #"{"wait": true}"#
        try socket.send("POST /v1/sync HTTP/1.1\r\nHost: aiosd\r\nAccept: \(JobEvent.contentType)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let asked = ContinuousClock.now
        let answer = socket.readAll(timeout: .seconds(60))
        let took = ContinuousClock.now - asked
        #expect(took > .seconds(3), "the list pass (3 s) outlasted the idle timeout (1 s)")
        #expect(answer.closed)
        let keepAlives = answer.text.components(separatedBy: String(decoding: StreamKeepAlive.line, as: UTF8.self)).count - 1
        #expect(keepAlives >= 2, "a keep-alive line at least every 2/3 s of silence: \(answer.text)")
        #expect(answer.text.contains(#""event":"finished""#), "the stream lasted to the end: \(answer.text)")
        #expect(h.value("apps", "db", "password") == "from-the-vault")

        // Without a stream the answer comes at the end of the cycle, 3 s after the request: a connection
        // whose request is being handled is busy, not idle.
        let plain = try UnixSocket(connectingTo: socketPath)
        try plain.send("POST /v1/sync HTTP/1.1\r\nHost: aiosd\r\nContent-Type: application/json\r\n"
                       + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let whole = plain.readAll(timeout: .seconds(60))
        #expect(whole.text.hasPrefix("HTTP/1.1 200") && whole.text.contains(#""finished":true"#), "\(whole.text)")

        // What a user runs: aiosctl skips the keep-alives and shows the outcome.
        let result = try runProcess(BuiltProducts.aiosctl, ["--socket", socketPath, "sync", "--wait"])
        #expect(result.status == 0, "aiosctl sync --wait: \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("unchanged apps/db"), "\(result.stdout)")
        #expect(!result.stdout.contains(StreamKeepAlive.eventName) && result.stderr.isEmpty, "\(result.stdout) \(result.stderr)")
        let json = try runProcess(BuiltProducts.aiosctl, ["--socket", socketPath, "-o", "json", "sync", "--wait"])
        #expect(json.status == 0 && json.stdout.contains(#""event":"finished""#), "\(json.stdout) \(json.stderr)")
        #expect(!json.stdout.contains(StreamKeepAlive.eventName), "\(json.stdout)")
        }
    }

    /// Runs `body` (off the cooperative pool) with a control server serving `runner` on a socket (its path the
    /// argument), once the runner sees `definitions` definitions and the server answers.
    func withSyncServer(_ h: SyncHarness, _ runner: SecretSyncRunner, definitions: Int,
                        _ body: @escaping @Sendable (String) throws -> Void) async throws {
        let socketPath = h.directory.file("aiosd.sock")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let state = DaemonState(configPath: "/nonexistent/aiosd.yaml", socketPath: socketPath, configuration: h.configuration,
                                underSystemd: false, watchdogInterval: nil)
        let notifier = Notifier(enabled: false)
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = ControlServer(
            eventLoopGroup: loops,
            router: Router(handlers: [VersionHandler(), SyncHandler(runner: runner, tasks: runner.tasks)],
                           authorizer: { Authorizer(adminGroup: "aios-admin") }, logger: logger),
            state: state, manager: ConfigurationManager(state: state, notifier: notifier, logger: logger, onReload: { _, _ in }),
            notifier: notifier, logger: logger, activatedSocket: nil, tasks: runner.tasks)

        try await withServices(runner) { () async throws -> Void in
            try await withThrowingTaskGroup { group in
                group.addTask { try await server.run() }
                defer { group.cancelAll() }
                #expect(try await eventually { runner.allDefinitions().all.count == definitions })
                try await offCooperativePool {
                    let client = ControlClient(socketPath: socketPath, timeout: .seconds(30))
                    let serving = ContinuousClock.now + .seconds(60)
                    while (try? client.call(API.version)) == nil && ContinuousClock.now < serving { usleep(10_000) }
                    try body(socketPath)
                }
            }
        }
        try await loops.shutdownGracefully()
    }
}
