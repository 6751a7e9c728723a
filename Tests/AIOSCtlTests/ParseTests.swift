import AIOSAPI
@testable import AIOSCtl
import ArgumentParser
import Foundation
import Testing

/// Parse-only tests of every aiosctl command (argument-parser's AssertParse style): no daemon involved.
@Suite struct ParseTests {
    private func parse<Command: ParsableCommand>(_ type: Command.Type, _ arguments: [String]) throws -> Command {
        let parsed = try AIOSCtlCommand.parseAsRoot(arguments)
        return try #require(parsed as? Command, "parsed \(Swift.type(of: parsed)), expected \(Command.self)")
    }

    @Test func statusDefaults() throws {
        let command = try parse(StatusCommand.self, ["status"])
        #expect(command.global.socket == nil)
        #expect(command.global.json == false)
        #expect(command.global.timeout == nil)
        #expect(command.global.client.timeout == .seconds(10))
    }

    @Test func apiServerArgs() throws {
        #expect(try parse(APIServerArgSetCommand.self, ["k3s", "apiserver-arg", "set", "audit-log-maxage=30", "v=2"]).arguments
                == ["audit-log-maxage=30", "v=2"])
        #expect(try parse(APIServerArgUnsetCommand.self, ["k3s", "apiserver-arg", "unset", "v"]).flags == ["v"])
        _ = try parse(APIServerArgListCommand.self, ["k3s", "apiserver-arg", "list"])
        #expect(throws: (any Error).self) { try AIOSCtlCommand.parseAsRoot(["k3s", "apiserver-arg", "set", "novalue"]) }
        #expect(throws: (any Error).self) { try AIOSCtlCommand.parseAsRoot(["k3s", "apiserver-arg", "set"]) }
    }

    @Test func workloadIdentityEnable() throws {
        let command = try parse(WorkloadIdentityEnableCommand.self, ["workload-identity", "enable", "--issuer", "https://x/"])
        #expect(command.issuer == "https://x/")
        #expect(command.maxTokenExpiration == nil, "nil: the daemon keeps a lifetime K3s already has, else 24h")
        #expect(!command.force)
        #expect(try parse(WorkloadIdentityEnableCommand.self, ["workload-identity", "enable", "--issuer", "https://x/", "--force"]).force)
        #expect(throws: (any Error).self) { try AIOSCtlCommand.parseAsRoot(["workload-identity", "enable"]) }
        #expect(try parse(WorkloadIdentityDisableCommand.self, ["workload-identity", "disable", "--force"]).force)
        #expect(try parse(APIServerArgSetCommand.self, ["k3s", "apiserver-arg", "set", "v=2", "--force"]).force)
    }

    @Test func workloadIdentityStatus() throws {
        #expect(try parse(WorkloadIdentityStatusCommand.self, ["workload-identity", "status", "--json"]).global.json)
    }

    @Test func k3sConfig() throws {
        #expect(try parse(K3sConfigCommand.self, ["k3s", "config"]).effective == false)
        #expect(try parse(K3sConfigCommand.self, ["k3s", "config", "--effective", "--json"]).effective)
    }

    @Test func hostOperationsWaitLongerByDefault() throws {
        let restart = try parse(K3sRestartCommand.self, ["k3s", "restart"])
        #expect(restart.global.client(K3sRestartCommand.timeout).timeout == .seconds(330))
        let explicit = try parse(K3sRestartCommand.self, ["k3s", "restart", "--timeout", "20"])
        #expect(explicit.global.client(K3sRestartCommand.timeout).timeout == .seconds(20))
        let reload = try parse(SystemdDaemonReloadCommand.self, ["systemd", "daemon-reload", "--json"])
        #expect(reload.global.json)
    }

    @Test func globalOptionsAfterTheCommand() throws {
        let command = try parse(StatusCommand.self, ["status", "--socket", "/tmp/x.sock", "--json", "--timeout", "2.5"])
        #expect(command.global.socket == "/tmp/x.sock")
        #expect(command.global.socketPath == "/tmp/x.sock")
        #expect(command.global.json)
        #expect(command.global.timeout == 2.5)
    }

    @Test func globalOptionsBeforeTheCommand() throws {
        let command = try parse(VersionCommand.self, ["--json", "--socket", "/tmp/y.sock", "version"])
        #expect(command.global.json)
        #expect(command.global.socket == "/tmp/y.sock")
    }

    @Test func configReload() throws {
        let command = try parse(ConfigReloadCommand.self, ["config", "reload", "--json"])
        #expect(command.global.json)
    }

    @Test func socketDefaultsToTheDaemonsPath() throws {
        let command = try parse(StatusCommand.self, ["status"])
        // AIOSCTL_SOCKET is not set in the test environment.
        #expect(command.global.socketPath == Defaults.socketPath)
    }

    @Test(arguments: [
        ["bogus"],
        ["status", "--timeout", "0"],
        ["status", "--timeout", "soon"],
        ["config", "reload", "extra"],
        ["status", "--socket"],
        ["k3s", "restart", "now"],
        ["systemd", "reload"],
    ])
    func usageErrors(_ arguments: [String]) {
        #expect(throws: (any Error).self) {
            _ = try AIOSCtlCommand.parseAsRoot(arguments)
        }
    }

    @Test func usageErrorsMapToExitStatusTwo() {
        do {
            _ = try AIOSCtlCommand.parseAsRoot(["status", "--timeout", "-1"])
            Issue.record("expected a usage error")
        } catch {
            #expect(AIOSCtlCommand.exitCode(for: error) == .validationFailure)
        }
    }
}

@Suite struct StatusSummaryTests {
    @Test func healthLinesCountDownAndNameTheParts() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let last = SyncCycleSummary(startedAt: now.addingTimeInterval(-50), finishedAt: now.addingTimeInterval(-48),
                                    durationSeconds: 2.2, reason: "schedule", outcome: .failed, results: ["applied": 1, "failed": 1])
        var status = StatusResponse(version: "1", pid: 1, startedAt: now, uptimeSeconds: 1, configPath: "/etc/aios/aiosd.yaml",
                                    configLoadedAt: now, lastReload: nil, socketPath: "/run/aiosd/aiosd.sock", socketActivated: true,
                                    underSystemd: true, watchdogSeconds: nil, services: [])
        status.sync = SyncHealth(secrets: 3, failing: 1, expiringSoon: 1, expired: 1, running: false, lastCycle: last,
                                 nextCycleAt: now.addingTimeInterval(3552))
        status.clusterWatch = ClusterWatchHealth(watching: false, selected: 0, note: "cluster SecretSyncs are not synced (cluster.secretSyncs: off)")
        status.hostJobs = HostJobsHealth(running: 0, queued: 1, lastFinished: nil)
        let lines = StatusCommand.health(status, now: now)
        #expect(lines == [
            "sync:     3 secret(s), 1 failing, 1 expiring within 30 days, 1 EXPIRED",
            "          last cycle 48s ago (schedule): failed in 2.2s, 1 applied, 1 failed",
            "          next cycle in 59m12s",
            "cluster:  cluster SecretSyncs are not synced (cluster.secretSyncs: off)",
            "jobs:     0 running, 1 queued",
        ])
    }
}

/// Text from the cluster is shown, never obeyed, by the terminal.
@Suite struct OutputEscapingTests {
    @Test func controlCharactersAreShownNotSent() {
        #expect(Output.visible("ns/name\u{1B}[2J\rfake") == "ns/name\\u{1B}[2J\\u{D}fake")
        #expect(Output.visible("a\u{9B}31m\u{2028}b\u{0}") == "a\\u{9B}31m\\u{2028}b\\u{0}")
        #expect(Output.visible("line one\nline two\tok") == "line one\nline two\tok", "newline and tab stay")
        #expect(Output.table([["NAME", "STATUS"], ["a\nb", "x\u{1B}"]]) == "NAME  STATUS\na\\nb  x\u{1B}",
                "a newline in a cell is escaped in the table; print() then escapes the rest")
    }
}
