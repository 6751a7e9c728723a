@testable import AIOSCore
import AIOSTestSupport
import Foundation
import Glibc
import Testing

/// Who may set which kube-apiserver flag (issue 10): operators get the allow-list, root everything, and a flag
/// that names a file is accepted only for a file only root can have written.
@Suite struct APIServerFlagPolicyTests {
    /// A file system where every path is a root-owned 0755 directory or 0644 file: the flag rules alone decide.
    static let trusted = FileTrust { path in
        .init(kind: path.hasSuffix(".csv") || path.hasSuffix(".pem") || path.hasSuffix(".yaml") ? .file : .directory, owner: 0, mode: 0o755)
    }

    static func check(_ set: [String], unset: [String] = [], as requester: Privilege, files: FileTrust = trusted) -> PolicyRefusal? {
        do {
            try APIServerFlagPolicy.check(set: set.map(APIServerArgument.init(parsing:)), unset: unset, requester: requester, files: files)
            return nil
        } catch {
            return error
        }
    }

    /// One member of each family that changes who authenticates, what is authorized or admitted, keys, TLS,
    /// audit, features, encryption, or where the server listens.
    static let dangerous = [
        "anonymous-auth=true", "authorization-mode=AlwaysAllow", "token-auth-file=/etc/k3s/tokens.csv",
        "enable-admission-plugins=AlwaysAdmit", "disable-admission-plugins=NodeRestriction",
        "admission-control-config-file=/etc/k3s/admission.yaml", "feature-gates=AllAlpha=true", "runtime-config=api/all=true",
        "tls-cert-file=/etc/k3s/cert.pem", "tls-private-key-file=/etc/k3s/key.pem", "tls-min-version=VersionTLS10",
        "tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA", "audit-policy-file=/etc/k3s/audit.yaml", "audit-log-path=/var/log/audit.log",
        "oidc-issuer-url=https://evil.example", "oidc-client-id=x", "oidc-ca-file=/etc/k3s/ca.pem",
        "service-account-key-file=/etc/k3s/sa.pem", "service-account-signing-key-file=/etc/k3s/sa.pem",
        "client-ca-file=/etc/k3s/ca.pem", "requestheader-client-ca-file=/etc/k3s/ca.pem", "requestheader-username-headers=X-User",
        "authentication-token-webhook-config-file=/etc/k3s/w.yaml", "authorization-webhook-config-file=/etc/k3s/w.yaml",
        "encryption-provider-config=/etc/k3s/enc.yaml", "enable-bootstrap-token-auth=true", "allow-privileged=true",
        "bind-address=0.0.0.0", "secure-port=443", "v=10", "profiling=true", "service-account-lookup=false",
    ]

    @Test(arguments: dangerous)
    func operatorIsRefusedEveryDangerousFlagRootIsNot(_ element: String) throws {
        let refusal = try #require(Self.check([element], as: .operator), "\(element) was allowed to an operator")
        #expect(refusal.kind == .needsPrivilege(.root))
        #expect(refusal.rule == "root-only-flag")
        let flag = APIServerArgument(parsing: element).flagName
        #expect(refusal.message.contains("may not set \(flag)"))
        #expect(refusal.message.contains("only root"))
        #expect(Self.check([element], as: .root) == nil, "root may set \(element)")
        // Unsetting it would change the same thing.
        #expect(Self.check([], unset: [flag], as: .operator)?.kind == .needsPrivilege(.root))
        #expect(Self.check([], unset: [flag], as: .root) == nil)
    }

    @Test func theRefusalSaysWhy() {
        #expect(Self.check(["anonymous-auth=true"], as: .operator)?.message.contains("who can authenticate") == true)
        #expect(Self.check(["authorization-mode=AlwaysAllow"], as: .operator)?.message.contains("what is authorized") == true)
        #expect(Self.check(["enable-admission-plugins=X"], as: .operator)?.message.contains("what is admitted") == true)
        #expect(Self.check(["tls-min-version=VersionTLS10"], as: .operator)?.message.contains("TLS") == true)
        #expect(Self.check(["audit-policy-file=/etc/k3s/a.yaml"], as: .operator)?.message.contains("audited") == true)
        #expect(Self.check(["feature-gates=A=true"], as: .operator)?.message.contains("features") == true)
        #expect(Self.check(["profiling=true"], as: .operator)?.message.contains("not on the operator allow-list") == true)
        #expect(Self.check(["profiling=true"], as: .operator)?.hint?.contains("audit-log-maxage") == true)
    }

    @Test func mergeMarkersDoNotHideAFlag() {
        #expect(Self.check(["anonymous-auth+=true"], as: .operator) != nil)
        // A trailing '-' is no flag name at all (issue 10 section 3): refused for every level, root included.
        #expect(Self.check(["anonymous-auth-=true"], as: .operator)?.kind == .invalid)
        #expect(Self.check(["anonymous-auth-=true"], as: .root)?.kind == .invalid)
        #expect(Self.check(["--authorization-mode=AlwaysAllow"], as: .operator)?.kind == .needsPrivilege(.root))
        #expect(Self.check([], unset: ["--anonymous-auth"], as: .operator)?.kind == .needsPrivilege(.root))
    }

    @Test(arguments: [
        "api-audiences=https://kubernetes.default.svc,api://AzureADTokenExchange", "audit-log-maxage=30", "audit-log-maxbackup=10",
        "audit-log-maxsize=100", "default-not-ready-toleration-seconds=60", "default-unreachable-toleration-seconds=60",
        "request-timeout=2m", "min-request-timeout=1800", "max-requests-inflight=800", "max-mutating-requests-inflight=400",
        "service-account-max-token-expiration=24h",
    ])
    func operatorMaySetTheAllowList(_ element: String) {
        #expect(Self.check([element], as: .operator) == nil)
        #expect(Self.check([], unset: [APIServerArgument(parsing: element).flagName], as: .operator) == nil)
    }

    @Test func issuerFlagsOnlyThroughWorkloadIdentityForOperators() throws {
        for element in ["service-account-issuer=https://evil.example", "service-account-jwks-uri=https://evil.example/jwks"] {
            let refusal = try #require(Self.check([element], as: .operator))
            #expect(refusal.rule == "issuer-through-workload-identity")
            #expect(refusal.hint?.contains("aiosctl workload-identity enable") == true)
            #expect(Self.check([element], as: .root) == nil)
        }
        #expect(Self.check([], unset: ["service-account-issuer"], as: .operator)?.rule == "issuer-through-workload-identity")
    }

    @Test(arguments: [("1h", true), ("24h", true), ("90m", true), ("3600s", true), ("12h30m", true),
                      ("59m", false), ("3599s", false), ("25h", false), ("24h1s", false), ("8760h", false), ("10m", false),
                      ("forever", false), ("", false), ("-1h", false)])
    func maxTokenExpirationBoundsForOperators(_ value: String, _ allowed: Bool) {
        let refusal = Self.check(["service-account-max-token-expiration=\(value)"], as: .operator)
        #expect((refusal == nil) == allowed, "\(value): \(refusal?.description ?? "allowed")")
        if let refusal { #expect(refusal.message.contains("from 1h to 24h")) }
        // The workload-identity flow holds operators to the same bounds.
        let viaFlow = Result { () throws(PolicyRefusal) in
            try APIServerFlagPolicy.checkWorkloadIdentity(maxTokenExpiration: value, requester: .operator)
        }
        #expect(((try? viaFlow.get()) != nil) == allowed)
        // Root is not bounded (the API server itself judges the value).
        #expect(Self.check(["service-account-max-token-expiration=\(value)"], as: .root) == nil)
        #expect((try? APIServerFlagPolicy.checkWorkloadIdentity(maxTokenExpiration: value, requester: .root)) != nil)
    }

    @Test(arguments: ["audit-log-maxage=-1", "audit-log-maxage=ten", "audit-log-maxsize=1e9", "request-timeout=0s",
                      "request-timeout=soon", "api-audiences=", "api-audiences=a,,b", "max-requests-inflight=99999999999"])
    func operatorValuesMustBeWellFormed(_ element: String) throws {
        let refusal = try #require(Self.check([element], as: .operator))
        #expect(refusal.rule == "operator-value")
    }

    @Test func malformedElementsAreRefusedAsSuchForEveryone() throws {
        for requester in [Privilege.operator, .root] {
            let unknown = try #require(Self.check(["audit-log-maxag=30"], as: requester))
            #expect(unknown.kind == .invalid)
            #expect(unknown.message.contains("not a kube-apiserver flag"))
            let newline = try #require(Self.check(["audit-log-path=/tmp/a\nkube-apiserver-arg: x"], as: requester))
            #expect(newline.kind == .invalid)
            #expect(newline.message.contains("control character"))
        }
    }

    @Test func aReaderMayNotChangeFlags() {
        #expect(Self.check(["audit-log-maxage=30"], as: .reader)?.kind == .needsPrivilege(.operator))
    }

    @Test func oneRefusedElementRefusesTheWholeEdit() {
        #expect(Self.check(["audit-log-maxage=30", "anonymous-auth=true"], as: .operator) != nil)
        #expect(Self.check(["audit-log-maxage=30"], unset: ["authorization-mode"], as: .operator) != nil)
    }
}

/// Path-valued flags against real files this test creates and chowns (it runs as root in CI).
@Suite(.enabled(if: getuid() == 0, "needs root: creates root-owned and other-owned files"))
struct FileTrustTests {
    static func refusal(_ element: String, as requester: Privilege = .root) -> PolicyRefusal? {
        do {
            try APIServerFlagPolicy.check(set: [APIServerArgument(parsing: element)], unset: [], requester: requester)
            return nil
        } catch {
            return error
        }
    }

    /// A root-owned 0755 directory outside /tmp (world-writable, so never trusted): under /run, root-owned.
    static func trustedDirectory() throws -> String {
        let path = "/run/aios-filetrust-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o755) == 0 else { throw POSIXError(.EIO) }
        chmod(path, 0o755)
        return path
    }

    static func write(_ path: String, owner: uid_t = 0, mode: mode_t = 0o644) throws {
        try "x".write(toFile: path, atomically: false, encoding: .utf8)
        chown(path, owner, 0)
        chmod(path, mode)
    }

    @Test func rootOwnedFileInRootOwnedDirectoriesIsAccepted() throws {
        let directory = try Self.trustedDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        try Self.write("\(directory)/tokens.csv", mode: 0o600)
        #expect(Self.refusal("token-auth-file=\(directory)/tokens.csv") == nil)
        #expect(Self.refusal("tls-sni-cert-key=\(directory)/tokens.csv,\(directory)/tokens.csv:*.example.com") == nil)
        // A file the API server creates may be absent, in a trusted directory.
        #expect(Self.refusal("audit-log-path=\(directory)/audit.log") == nil)
        #expect(Self.refusal("audit-log-path=-") == nil)
    }

    @Test func untrustedFilesAreRefusedEvenToRoot() throws {
        let directory = try Self.trustedDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        try Self.write("\(directory)/user.csv", owner: 65534)
        try Self.write("\(directory)/group-writable.csv", mode: 0o664)
        try Self.write("\(directory)/world-writable.csv", mode: 0o646)
        try Self.write("\(directory)/good.csv")
        symlink("\(directory)/good.csv", "\(directory)/link.csv")
        mkdir("\(directory)/userdir", 0o755)
        chown("\(directory)/userdir", 65534, 0)
        try Self.write("\(directory)/userdir/tokens.csv")
        mkdir("\(directory)/opendir", 0o777)
        chmod("\(directory)/opendir", 0o777)
        try Self.write("\(directory)/opendir/tokens.csv")

        let cases: [(String, String)] = [
            ("token-auth-file=\(directory)/user.csv", "owned by uid 65534"),
            ("token-auth-file=\(directory)/group-writable.csv", "writable by group or others"),
            ("client-ca-file=\(directory)/world-writable.csv", "writable by group or others"),
            ("token-auth-file=\(directory)/link.csv", "symbolic link"),
            ("token-auth-file=\(directory)/userdir/tokens.csv", "\(directory)/userdir is owned by uid 65534"),
            ("audit-policy-file=\(directory)/opendir/tokens.csv", "\(directory)/opendir is writable"),
            ("token-auth-file=\(directory)/missing.csv", "does not exist"),
            ("token-auth-file=relative/tokens.csv", "not an absolute path"),
            ("token-auth-file=\(directory)/../\(directory)/good.csv", "not a plain absolute path"),
            ("audit-log-path=/tmp/audit.log", "/tmp is writable by group or others"),
            ("audit-log-path=\(directory)/userdir/audit.log", "owned by uid 65534"),
            ("tls-sni-cert-key=\(directory)/good.csv,\(directory)/user.csv:*.example.com", "owned by uid 65534"),
        ]
        for (element, reason) in cases {
            for requester in [Privilege.root, .operator] {
                guard let refusal = Self.refusal(element, as: requester) else {
                    Issue.record("\(element) was accepted for \(requester)")
                    continue
                }
                if requester == .root {
                    #expect(refusal.kind == .invalid, "\(element)")
                    #expect(refusal.rule == "root-owned-file", "\(element): \(refusal)")
                    #expect(refusal.message.contains(reason), "\(element): \(refusal.message)")
                }
            }
        }
        #expect(Self.refusal("token-auth-file=\(directory)/good.csv") == nil)
    }
}
