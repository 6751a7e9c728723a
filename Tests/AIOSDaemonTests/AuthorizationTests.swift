import AIOSAPI
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// Authorization by peer credentials, with the real aiosctl run as an unprivileged uid through setpriv.
/// Needs root (to switch uid and chown the socket); CI runs as root.
@Suite(.enabled(if: getuid() == 0, "needs root: runs aiosctl as another uid with setpriv"))
struct AuthorizationTests {
    @Test func unprivilegedPeerMayReadButNotMutate() async throws {
        // nobody can connect (socket group nogroup) but is not in the admin group.
        try await DaemonHarness.withDaemon(config: "control:\n  socketGroup: nogroup\n  adminGroup: root\n") { daemon in
            let status = try daemon.aiosctl(as: "nobody", group: "nogroup", ["status", "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("\"pid\""))

            let reload = try daemon.aiosctl(as: "nobody", group: "nogroup", ["config", "reload"])
            #expect(reload.status == 4, "\(reload.stderr)")
            #expect(reload.stderr.contains("uid 65534 may not POST /v1/config/reload"))
            #expect(reload.stderr.contains("usermod -aG root"))

            let json = try daemon.aiosctl(as: "nobody", group: "nogroup", ["config", "reload", "--json"])
            #expect(json.status == 4)
            #expect(json.stdout.contains(#""code":"permission_denied""#))
        }
    }

    @Test func adminGroupMemberMayMutate() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  socketGroup: nogroup\n  adminGroup: nogroup\n") { daemon in
            let reload = try daemon.aiosctl(as: "nobody", group: "nogroup", ["config", "reload"])
            #expect(reload.status == 0, "\(reload.stderr)")
            #expect(reload.stdout.contains("Configuration reloaded"))
        }
    }

    @Test func peerOutsideTheSocketGroupCannotConnect() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  socketGroup: root\n") { daemon in
            let status = try daemon.aiosctl(as: "nobody", group: "nogroup", ["status"])
            #expect(status.status == 4, "\(status.stderr)")
            #expect(status.stderr.contains("permission denied on the aiosd socket \(daemon.socketPath)"))
        }
    }

    @Test func rootMayMutate() async throws {
        try await DaemonHarness.withDaemon(config: "control:\n  adminGroup: no-such-group-here\n") { daemon in
            let reload = try runProcess(BuiltProducts.aiosctl, ["--socket", daemon.socketPath, "config", "reload"],
                                        environment: cleanEnvironment())
            #expect(reload.status == 0, "\(reload.stderr)")
        }
    }
}
