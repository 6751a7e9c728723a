import AIOSAPI
import AIOSClient
@testable import AIOSCore
@testable import AIOSDaemon
import AIOSTestSupport
import Foundation
import Glibc
import Logging
import Testing

/// The Router's level check over every endpoint of the contract (`Endpoint.all`, where each endpoint must declare
/// its level), with handlers that only record who reached them: a unit test of the decision alone.
@Suite struct RouterLevelTests {
    struct RecordingHandler: APIHandler {
        let endpoint: Endpoint
        func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
            .json(["caller": request.caller.rawValue])
        }
    }

    static let nobody = PeerCredentials(pid: getpid(), uid: 65534, gid: 65534)
    static let root = PeerCredentials(pid: getpid(), uid: 0, gid: 0)

    /// (who, adminGroup, k3sAdminGroup, expected level): nobody's primary group is nogroup.
    static let callers: [(String, PeerCredentials, String, String?, AccessLevel)] = [
        ("nobody, not in the admin group", nobody, "root", nil, .reader),
        ("nobody, admin group nogroup", nobody, "nogroup", nil, .operator),
        ("nobody, k3s admin group nogroup", nobody, "root", "nogroup", .root),
        ("root", root, "no-such-group", nil, .root),
    ]

    static func path(of endpoint: Endpoint) -> String { endpoint.path(["id": "0a1b2c3d", "name": "db"]) }

    @Test func everyEndpointAdmitsExactlyTheLevelsAtOrAboveItsOwn() async throws {
        for (who, peer, adminGroup, k3sAdminGroup, level) in Self.callers {
            let router = Router(handlers: Endpoint.all.map(RecordingHandler.init), authorizer: {
                Authorizer(adminGroup: adminGroup, k3sAdminGroup: k3sAdminGroup)
            }, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            for endpoint in Endpoint.all {
                let reply = await router.route(method: endpoint.method.rawValue, path: Self.path(of: endpoint), body: [], peer: peer)
                let text = String(decoding: reply.body, as: UTF8.self)
                if level >= endpoint.level {
                    #expect(reply.status == 200, "\(who) refused \(endpoint): \(text)")
                    // Handlers with finer rules see the caller's level (established only where it matters).
                    let seen = endpoint.level > .reader ? level : .reader
                    #expect(text.contains(#""caller":"\#(seen.rawValue)""#), "\(who) \(endpoint): \(text)")
                } else {
                    #expect(reply.status == 403, "\(who) admitted to \(endpoint)")
                    #expect(text.contains(#""code":"permission_denied""#))
                    #expect(text.contains("may not \(endpoint)"))
                    #expect(text.contains("needs the \(endpoint.level) level"))
                }
            }
        }
    }
}

/// The same over the real socket: the real daemon and handlers, and curl run as uid nobody with setpriv, which
/// can connect (the socket's group is nogroup) so a refusal comes from the peer-credential check, not the file mode.
@Suite(.enabled(if: getuid() == 0, "needs root: runs curl as another uid with setpriv"))
struct ReaderTableTests {
    static func request(_ daemon: DaemonHarness, _ endpoint: Endpoint, as user: String = "nobody") throws -> (status: Int, body: String) {
        var arguments = ["--reuid=\(user)", "--regid=nogroup", "--clear-groups", "--", "/usr/bin/curl", "-s", "--max-time", "10",
                         "-w", "\n%{http_code}", "--unix-socket", daemon.socketPath, "-X", endpoint.method.rawValue]
        if endpoint.method == .post { arguments += ["-H", "Content-Type: application/json", "--data", "{}"] }
        arguments.append("http://aiosd" + RouterLevelTests.path(of: endpoint))
        let result = try runProcess("/usr/bin/setpriv", arguments, environment: cleanEnvironment())
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func aReaderIsRefusedEveryMutatingEndpointAndAdmittedToEveryReadOne() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: "control:\n  socketGroup: nogroup\n  adminGroup: root\n"
                                           + SecretAPITests.config(definitions.path)) { daemon in
            for endpoint in Endpoint.all {
                let (status, body) = try Self.request(daemon, endpoint)
                #expect(status != 0, "\(endpoint): no HTTP response")
                // Routed: the daemon has a handler for every endpoint of the contract.
                #expect(!body.contains("no such endpoint") && status != 405, "\(endpoint): \(body)")
                if endpoint.mutating {
                    #expect(status == 403, "\(endpoint) admitted a reader: \(body)")
                    #expect(body.contains(#""code":"permission_denied""#))
                    #expect(body.contains("uid 65534 may not \(endpoint)"), "\(body)")
                } else {
                    #expect(status != 403 && !body.contains("permission_denied"), "\(endpoint) refused a reader: \(body)")
                }
            }
            // Nothing a refused request could have written.
            #expect(try FileManager.default.contentsOfDirectory(atPath: definitions.path).isEmpty)
        }
    }
}

/// Operators through the real aiosctl (as uid nobody, admin group nogroup) against the handlers' policies.
/// Every case here is refused before any job starts, so no K3s file on this host is read or written.
@Suite(.enabled(if: getuid() == 0, "needs root: runs aiosctl as another uid with setpriv"))
struct OperatorPolicyTests {
    static let operatorConfig = "control:\n  socketGroup: nogroup\n  adminGroup: nogroup\n"

    @Test func operatorRefusedRootOnlyFlagsWithTheRuleNamed() async throws {
        try await DaemonHarness.withDaemon(config: Self.operatorConfig) { daemon in
            for element in ["anonymous-auth=true", "authorization-mode=AlwaysAllow", "token-auth-file=/home/alice/tokens.csv",
                            "enable-admission-plugins=AlwaysAdmit", "feature-gates=AllAlpha=true", "tls-min-version=VersionTLS10",
                            "audit-policy-file=/etc/a.yaml", "oidc-issuer-url=https://evil.example",
                            "service-account-key-file=/etc/k.pem"] {
                let result = try daemon.aiosctl(as: "nobody", group: "nogroup", ["k3s", "apiserver-arg", "set", element])
                #expect(result.status == 4, "\(element): \(result.stderr)")
                #expect(result.stderr.contains("rule root-only-flag"), "\(result.stderr)")
                #expect(result.stderr.contains("you are an operator"))
                #expect(result.stderr.contains("only root"))
            }
            let unset = try daemon.aiosctl(as: "nobody", group: "nogroup", ["k3s", "apiserver-arg", "unset", "authorization-mode"])
            #expect(unset.status == 4, "\(unset.stderr)")
            let issuer = try daemon.aiosctl(as: "nobody", group: "nogroup",
                                            ["k3s", "apiserver-arg", "set", "service-account-issuer=https://evil.example"])
            #expect(issuer.status == 4)
            #expect(issuer.stderr.contains("aiosctl workload-identity enable"), "\(issuer.stderr)")
            let expiry = try daemon.aiosctl(as: "nobody", group: "nogroup", ["workload-identity", "enable", "--issuer",
                                                                             "https://issuer.example/", "--max-token-expiration", "8760h"])
            #expect(expiry.status == 4, "\(expiry.stderr)")
            #expect(expiry.stderr.contains("from 1h to 24h"))
            // No job was started for any of them.
            let jobs = try daemon.aiosctl(as: "nobody", group: "nogroup", ["jobs", "--json"])
            #expect(!jobs.stdout.contains("apiserver-arg-edit") && !jobs.stdout.contains("workload-identity-enable"), "\(jobs.stdout)")
        }
    }

    @Test func untrustedFileRefusedEvenToRoot() async throws {
        try await DaemonHarness.withDaemon { daemon in
            let body = Array(try APICoding.encoder().encode(APIServerArgsEditRequest(set: ["token-auth-file=/tmp/tokens.csv"], unset: [])))
            do {
                _ = try daemon.client.call(.apiServerArgsEdit, body: body)
                Issue.record("a token file under /tmp was accepted")
            } catch let error as ClientError {
                #expect(error.apiError?.code == "bad_request")
                #expect(error.message.contains("rule root-owned-file"), "\(error.message)")
                #expect(error.message.contains("/tmp is writable by group or others"))
            }
        }
    }

    @Test func secretTargetsAreBoundedForOperatorsNotRoot() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: Self.operatorConfig + SecretAPITests.config(definitions.path)) { daemon in
            let add = ["secret", "add", "db", "--vault", "contoso-kv", "--object", "db-password"]
            let other = try daemon.aiosctl(as: "nobody", group: "nogroup", add + ["--namespace", "default"])
            #expect(other.status == 4, "\(other.stderr)")
            #expect(other.stderr.contains("secrets.allowedNamespaces"))
            let system = try daemon.aiosctl(as: "nobody", group: "nogroup", add + ["--namespace", "kube-system"])
            #expect(system.status == 4)
            #expect(system.stderr.contains("kube-system"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: definitions.path).isEmpty, "a refusal wrote nothing")

            let allowed = try daemon.aiosctl(as: "nobody", group: "nogroup", add)
            #expect(allowed.status == 0, "\(allowed.stderr)")

            // Root may target kube-system; an operator may then neither replace nor remove that definition.
            let rootAdd = try runProcess(BuiltProducts.aiosctl, ["--socket", daemon.socketPath, "secret", "add", "sys", "--vault", "contoso-kv",
                                                                 "--object", "x", "--namespace", "kube-system"], environment: cleanEnvironment())
            #expect(rootAdd.status == 0, "\(rootAdd.stderr)")
            let replace = try daemon.aiosctl(as: "nobody", group: "nogroup",
                                             ["secret", "add", "sys", "--vault", "contoso-kv", "--object", "x", "--replace"])
            #expect(replace.status == 4, "\(replace.stderr)")
            let remove = try daemon.aiosctl(as: "nobody", group: "nogroup", ["secret", "remove", "sys"])
            #expect(remove.status == 4, "\(remove.stderr)")
            #expect(FileManager.default.fileExists(atPath: definitions.file("sys.yaml")))
            let removeOwn = try daemon.aiosctl(as: "nobody", group: "nogroup", ["secret", "remove", "db"])
            #expect(removeOwn.status == 0, "\(removeOwn.stderr)")
        }
    }

    /// The identity rule through the real handler: an operator's clientID/tenantId is refused under
    /// managedIdentity (it would pick one of the node's identities) and allowed under workload identity, where the
    /// file records the operator; after root switches to managedIdentity that definition gets no identity.
    @Test func identityOverridesAreRootsUnderTheNodesCredential() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        let base = Self.operatorConfig + SecretAPITests.config(definitions.path)
        let tenant = "99999999-2222-3333-4444-555555555555", client = "11111111-2222-3333-4444-555555555555"
        let workload = "identity:\n  method: workloadIdentity\n  tenantId: \(tenant)\n  clientId: 88888888-2222-3333-4444-555555555555\n"
        try await DaemonHarness.withDaemon(config: base + workload) { daemon in
            func root(_ arguments: [String]) throws -> ProcessResult {
                try runProcess(BuiltProducts.aiosctl, ["--socket", daemon.socketPath] + arguments, environment: cleanEnvironment())
            }
            let add = ["--vault", "contoso-kv", "--object", "db-password"]
            let federated = try daemon.aiosctl(as: "nobody", group: "nogroup", ["secret", "add", "wi", "--client-id", client] + add)
            #expect(federated.status == 0, "\(federated.stderr)")
            #expect(try String(contentsOfFile: definitions.file("wi.yaml"), encoding: .utf8).contains("\nwrittenBy: operator\n"))

            _ = try daemon.directory.write("aiosd.yaml", base + "identity:\n  method: managedIdentity\n  tenantId: \(tenant)\n")
            let reload = try root(["config", "reload"])
            #expect(reload.status == 0, "\(reload.stderr)")
            for override in [["--client-id", client], ["--tenant-id", tenant]] {
                let refused = try daemon.aiosctl(as: "nobody", group: "nogroup", ["secret", "add", "mi"] + override + add)
                #expect(refused.status == 4, "\(override): \(refused.stderr)")
                #expect(refused.stderr.contains("under identity.method managedIdentity"), "\(refused.stderr)")
                #expect(refused.stderr.contains("rule identity-override; you are an operator"))
                #expect(refused.stderr.contains("only root (uid 0 or control.k3sAdminGroup) may"))
                #expect(!FileManager.default.fileExists(atPath: definitions.file("mi.yaml")), "a refusal wrote nothing")
            }
            let rootAdd = try root(["secret", "add", "mi", "--client-id", client] + add)
            #expect(rootAdd.status == 0, "\(rootAdd.stderr)")
            #expect(!(try String(contentsOfFile: definitions.file("mi.yaml"), encoding: .utf8).contains("writtenBy")))
            // An operator may not replace root's definition with the node's identity in it either.
            let replace = try daemon.aiosctl(as: "nobody", group: "nogroup", ["secret", "add", "mi", "--replace"] + add)
            #expect(replace.status == 4, "\(replace.stderr)")

            let rootsShow = try root(["secret", "show", "mi", "--json"])
            #expect(rootsShow.stdout.contains("managed identity (imds) \(client)"), "\(rootsShow.stdout)")
            let operatorsShow = try root(["secret", "show", "wi", "--json"])
            #expect(operatorsShow.stdout.contains("none: written by an operator: wi sets clientID under identity.method managedIdentity"),
                    "\(operatorsShow.stdout)")
        }
    }
}

/// aiosctl cannot import the domain, so its help lists the operator allow-list itself; it must not drift.
@Suite struct OperatorAllowListHelpTests {
    @Test func setHelpListsExactlyTheAllowList() throws {
        let help = try runProcess(BuiltProducts.aiosctl, ["k3s", "apiserver-arg", "set", "--help"], environment: cleanEnvironment())
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for flag in APIServerFlagPolicy.operatorFlags.keys {
            #expect(text.contains(flag), "\(flag) missing from aiosctl k3s apiserver-arg set --help")
        }
        let listed = Set(KubeAPIServerFlags.known.filter { text.contains(" \($0),") || text.contains(" \($0) ") })
        #expect(listed.subtracting(APIServerFlagPolicy.operatorFlags.keys).isEmpty,
                "help names flags operators may not set: \(listed.subtracting(APIServerFlagPolicy.operatorFlags.keys))")
    }
}
