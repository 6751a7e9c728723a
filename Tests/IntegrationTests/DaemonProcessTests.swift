import AIOSAPI
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// The real aiosd and aiosctl binaries, with a test socket standing in for systemd's NOTIFY_SOCKET.
@Suite(.serialized, .offCooperativePool) struct DaemonProcessTests {
    struct Running {
        let directory: TemporaryDirectory
        let daemon: ChildProcess
        let notify: NotifyListener
        let socketPath: String
        let configPath: String

        func aiosctl(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(BuiltProducts.aiosctl, ["--socket", socketPath] + arguments, environment: cleanEnvironment())
        }

        func status() throws -> StatusResponse {
            let result = try aiosctl(["status", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try APICoding.decoder().decode(StatusResponse.self, from: Data(result.stdout.utf8))
        }
    }

    func start(config: String = "", environment: [String: String] = [:], listenFD: Int32? = nil,
               socketPath: String? = nil, in directory: TemporaryDirectory? = nil) throws -> Running {
        let directory = try directory ?? TemporaryDirectory(prefix: "aiosd-it")
        let notify = try NotifyListener(path: directory.file("notify.sock"))
        let configPath = try directory.write("aiosd.yaml", config)
        let socketPath = socketPath ?? directory.file("aiosd.sock")
        var arguments = [BuiltProducts.aiosd, "--config", configPath]
        if listenFD == nil { arguments += ["--socket", socketPath] } else { arguments += ["--socket", socketPath] }
        var env = cleanEnvironment(["NOTIFY_SOCKET": notify.path])
        env.merge(environment) { _, new in new }
        if listenFD != nil {
            // LISTEN_PID must be the daemon's own pid: let a shell set it to its pid, then exec the daemon.
            arguments = ["/bin/sh", "-c", #"LISTEN_PID=$$ LISTEN_FDS=1 exec "$@""#, "sh"] + arguments
        }
        let daemon = try ChildProcess(arguments, environment: env, stderrPath: directory.file("aiosd.log"), inheritFD: listenFD)
        return Running(directory: directory, daemon: daemon, notify: notify, socketPath: socketPath, configPath: configPath)
    }

    @Test func lifecycleReadyReloadStop() throws {
        let running = try start(config: "logLevel: info\n")
        defer { running.directory.remove() }
        let startup = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer), "no READY=1; log: \(running.daemon.output)")
        #expect(startup.last?.contains { $0.hasPrefix("STATUS=Running") } == true)
        // READY=1 means the socket listens: the very next client call succeeds.
        let status = try running.status()
        #expect(status.pid == running.daemon.pid)
        #expect(!status.socketActivated)

        // Good config on SIGHUP: RELOADING=1, then READY=1, and it is in force.
        try running.directory.write("aiosd.yaml", "logLevel: debug\n")
        running.daemon.signal(SIGHUP)
        let reload = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer))
        #expect(reload.contains { $0.contains("RELOADING=1") && $0.contains { $0.hasPrefix("MONOTONIC_USEC=") } })
        #expect(try running.status().lastReload?.accepted == true)

        // Bad config on SIGHUP: refused, old one stays, systemd's STATUS says so.
        try running.directory.write("aiosd.yaml", "control:\n  maxConnections: many\n")
        running.daemon.signal(SIGHUP)
        let refused = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer))
        #expect(refused.last?.contains { $0.hasPrefix("STATUS=Running; last config reload refused") && $0.contains("control.maxConnections") } == true)
        let after = try running.status()
        #expect(after.lastReload?.accepted == false)
        #expect(after.lastReload?.error?.contains("aiosd.yaml:2:19: control.maxConnections") == true)
        #expect(after.pid == running.daemon.pid)

        // SIGTERM: STOPPING=1, exit 0, socket gone.
        running.daemon.signal(SIGTERM)
        #expect(running.notify.wait(for: "STOPPING=1", timeout: TestDeadline.answer) != nil)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 0, "log: \(running.daemon.output)")
        #expect(access(running.socketPath, F_OK) != 0)
    }

    @Test func configReloadCommandMatchesSIGHUP() throws {
        let running = try start()
        defer { running.directory.remove() }
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer))
        try running.directory.write("aiosd.yaml", "logLevel: nonsense\n")
        let refused = try running.aiosctl(["config", "reload"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("aiosd.yaml:1:11: logLevel: expected one of"))
        #expect(refused.stderr.contains("hint: fix"))
        try running.directory.write("aiosd.yaml", "logLevel: debug\n")
        let accepted = try running.aiosctl(["config", "reload"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        running.daemon.signal(SIGTERM)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 0)
    }

    @Test func invalidConfigExits78() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try directory.write("aiosd.yaml", "control:\n  idleTimeout: forever\n")
        let daemon = try ChildProcess([BuiltProducts.aiosd, "--config", config, "--socket", directory.file("s.sock")],
                                      environment: cleanEnvironment(), stderrPath: directory.file("log"))
        #expect(daemon.wait(timeout: TestDeadline.answer) == 78)
        #expect(daemon.output.contains("\(config):2:16: control.idleTimeout: expected a duration"))
        #expect(access(directory.file("s.sock"), F_OK) != 0)
    }

    /// Socket-activated with an invalid configuration: the client already waiting gets the error instead of a hang,
    /// and aiosd still exits 78 (so systemd does not start it in a loop for a connection nobody answers).
    @Test func invalidConfigUnderSocketActivationAnswersWaitingClients() throws {
        let directory = try TemporaryDirectory(prefix: "aiosd-ic")
        defer { directory.remove() }
        let socketPath = directory.file("activated.sock")
        let listener = try makeListeningSocket(path: socketPath)
        let client = try UnixSocket(connectingTo: socketPath)
        try client.send("GET /v1/status HTTP/1.1\r\nHost: aiosd\r\n\r\n")
        let running = try start(config: "control:\n  maxConnections: many\n", listenFD: listener, socketPath: socketPath, in: directory)
        close(listener)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 78, "log: \(running.daemon.output)")
        let answer = client.readAll(timeout: TestDeadline.answer)
        #expect(answer.text.hasPrefix("HTTP/1.1 422 "), "\(answer.text)")
        #expect(answer.text.contains("\"config_invalid\"") && answer.text.contains("aiosd.yaml:2:19: control.maxConnections"),
                "\(answer.text)")
        #expect(answer.closed)
    }

    @Test func socketActivationUsesThePassedSocket() throws {
        let directory = try TemporaryDirectory(prefix: "aiosd-sa")
        defer { directory.remove() }
        let socketPath = directory.file("activated.sock")
        let listener = try makeListeningSocket(path: socketPath)
        let running = try start(listenFD: listener, socketPath: socketPath, in: directory)
        close(listener)
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer), "log: \(running.daemon.output)")
        let status = try running.status()
        #expect(status.socketActivated)
        #expect(status.pid == running.daemon.pid)
        running.daemon.signal(SIGTERM)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 0)
        // The socket belongs to the socket unit, not to aiosd: it stays.
        var info = stat()
        #expect(lstat(socketPath, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
    }

    @Test func watchdogPingsAtHalfTheInterval() throws {
        let running = try start(environment: ["WATCHDOG_USEC": "400000"])
        defer { running.directory.remove() }
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer))
        let start = ContinuousClock.now
        var pings = 0
        while ContinuousClock.now - start < .milliseconds(1100) {
            if running.notify.receive(timeout: .milliseconds(300))?.contains("WATCHDOG=1") == true { pings += 1 }
        }
        // 200 ms apart: about 5 in 1.1 s; allow for a slow machine but not for silence or a busy loop.
        #expect((3...8).contains(pings), "\(pings) pings")
        #expect(try running.status().watchdogSeconds == 0.4)
        running.daemon.signal(SIGTERM)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 0)
    }

    @Test func stoppedDaemonIsUnreachableWithExit3() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try runProcess(BuiltProducts.aiosctl, ["status", "--socket", directory.file("nothing.sock")], environment: cleanEnvironment())
        #expect(result.status == 3)
        #expect(result.stderr.contains("cannot reach aiosd at \(directory.file("nothing.sock"))"))
        #expect(result.stderr.contains("systemctl status aiosd"))
    }

    @Test func aStalledDaemonIsBusyWithExit5NotUnreachable() throws {
        let running = try start()
        defer { running.directory.remove() }
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer), "no READY=1; log: \(running.daemon.output)")
        // A stopped aiosd still has its socket: the kernel accepts the connection, nobody answers.
        running.daemon.signal(SIGSTOP)
        let result = try running.aiosctl(["status", "--timeout", "1"])
        running.daemon.signal(SIGCONT)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("is running but did not answer within"), "\(result.stderr)")
        #expect(try running.status().pid == running.daemon.pid)
    }

    @Test func theDaemonCannotDumpCore() throws {
        let running = try start()
        defer { running.directory.remove() }
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer), "no READY=1; log: \(running.daemon.output)")
        let limits = try String(contentsOfFile: "/proc/\(running.daemon.pid)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }
        #expect(core?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"], "\(core ?? "")")
    }

    @Test func staleSocketIsReplaced() throws {
        let directory = try TemporaryDirectory(prefix: "aiosd-stale")
        defer { directory.remove() }
        let socketPath = directory.file("aiosd.sock")
        close(try makeListeningSocket(path: socketPath))  // a socket file nobody serves
        let running = try start(socketPath: socketPath, in: directory)
        _ = try #require(running.notify.wait(for: "READY=1", timeout: TestDeadline.answer), "log: \(running.daemon.output)")
        #expect(try running.status().pid == running.daemon.pid)
        running.daemon.signal(SIGTERM)
        #expect(running.daemon.wait(timeout: TestDeadline.answer) == 0)
    }

    @Test func usageErrorExits2() throws {
        let result = try runProcess(BuiltProducts.aiosctl, ["status", "--timeout", "never"], environment: cleanEnvironment())
        #expect(result.status == 2)
        let unknown = try runProcess(BuiltProducts.aiosctl, ["frobnicate"], environment: cleanEnvironment())
        #expect(unknown.status == 2)
        let help = try runProcess(BuiltProducts.aiosctl, ["--help"], environment: cleanEnvironment())
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit status: 0 ok"))
    }
}
