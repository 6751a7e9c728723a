import AIOSAPI
@testable import AIOSCtl
import ArgumentParser
import Foundation
import Testing

/// `-o json|yaml|wide`, `--json` as its alias, the documents they print, and the views they choose.
@Suite struct OutputFormatTests {
    private func parse<Command: ParsableCommand>(_ type: Command.Type, _ arguments: [String]) throws -> Command {
        try #require(try AIOSCtlCommand.parseAsRoot(arguments) as? Command)
    }

    @Test func formatsParseBeforeAndAfterTheCommand() throws {
        #expect(try parse(StatusCommand.self, ["status"]).global.format == .text)
        #expect(try parse(StatusCommand.self, ["status", "-o", "yaml"]).global.format == .yaml)
        #expect(try parse(StatusCommand.self, ["status", "--output", "json"]).global.format == .json)
        #expect(try parse(SecretListCommand.self, ["-o", "wide", "secret", "list"]).global.format == .wide)
        #expect(try parse(JobsListCommand.self, ["jobs", "-owide"]).global.format == .wide)
        #expect(try parse(DoctorCommand.self, ["doctor", "--json"]).global.format == .json, "--json stays, as -o json")
        #expect(try parse(DoctorCommand.self, ["doctor", "--json", "-o", "json"]).global.format == .json)
    }

    @Test(arguments: [["status", "-o", "xml"], ["status", "--json", "-o", "yaml"], ["status", "-o"]])
    func badFormatsAreUsageErrors(_ arguments: [String]) {
        #expect(throws: (any Error).self) { _ = try AIOSCtlCommand.parseAsRoot(arguments) }
    }

    @Test func aFailedParseStillKnowsJSONWasAskedFor() {
        #expect(AIOSCtlCommand.requestedFormat(["status", "--bogus", "--json"]) == .json)
        #expect(AIOSCtlCommand.requestedFormat(["status", "-o", "yaml", "--bogus"]) == .yaml)
        #expect(AIOSCtlCommand.requestedFormat(["status", "--output=json"]) == .json)
        #expect(AIOSCtlCommand.requestedFormat(["status", "-ojson"]) == .json)
        #expect(AIOSCtlCommand.requestedFormat(["status", "--bogus"]) == nil)
    }

    @Test func jsonIsTheAPIsDocument() throws {
        let response = DoctorResponse(ok: false, findings: [.init(check: "k3s.ready", status: .fail, detail: "no", fix: "sudo systemctl status k3s")])
        let json = try #require(StructuredOutput.document(response, format: .json))
        #expect(json == #"{"findings":[{"check":"k3s.ready","detail":"no","fix":"sudo systemctl status k3s","status":"fail"}],"ok":false}"#)
        #expect(try APICoding.decoder().decode(DoctorResponse.self, from: Data(json.utf8)) == response)
    }

    @Test func yamlIsTheSameDocument() throws {
        let response = SecretRemoveResponse(file: "/etc/aios/secrets.d/db.yaml", target: "apps/db", targetDeleted: true)
        #expect(StructuredOutput.document(response, format: .yaml) == """
            file: /etc/aios/secrets.d/db.yaml
            target: apps/db
            targetDeleted: true
            """)
        let jobs = [JobRecord(id: "0a1b2c3d", kind: "k3s-restart", state: .succeeded, queuedAt: Date(timeIntervalSince1970: 1_700_000_000),
                              steps: [JobStep(name: "restart k3s.service", ok: true, seconds: 4.5)])]
        #expect(StructuredOutput.document(jobs, format: .yaml) == """
            - id: "0a1b2c3d"
              kind: k3s-restart
              queuedAt: "2023-11-14T22:13:20Z"
              state: succeeded
              steps:
              - name: restart k3s.service
                ok: true
                seconds: 4.5
            """)
    }

    /// Strings YAML would read as something else are quoted: numbers, dates, keywords, indicators, `: ` and ` #`.
    @Test func yamlQuotesWhatWouldNotReadBack() {
        for text in ["1.2.3", "2023-11-14T22:13:20Z", "true", "no", "null", "-x", "a: b", "a #b", "", " x", "x:", "*x", "{x}", "é", "line\nbreak"] {
            #expect(YAMLText.scalar(.string(text)).hasPrefix("\""), "\(text) must be quoted")
        }
        for text in ["plain", "apps/db", "https://issuer.example/t/", "k3s.service", "Secret apps/db kept"] {
            #expect(YAMLText.scalar(.string(text)) == text)
        }
        #expect(YAMLText.scalar(.number(2.5)) == "2.5")
        #expect(YAMLText.scalar(.integer(30)) == "30")
        #expect(YAMLText.render(.object(["empty": .array([]), "none": .null, "map": .object([:])])) == "empty: []\nmap: {}\nnone: null")
    }

    @Test func wideListsHaveMoreColumns() throws {
        let status = SecretStatusInfo(state: .synced, lastAttempt: Date(timeIntervalSince1970: 1_700_000_000), lastSuccess: Date(timeIntervalSince1970: 1_700_000_000),
                                      stale: false, contentHash: "sha256:0123456789abcdef0123", objects: [])
        let list = SecretListResponse(secrets: [.init(name: "db", source: "file", keyvaultName: "kv", target: "apps/db", type: "Opaque",
                                                      objects: ["db-password"], status: status)], invalid: [])
        let command = try #require(try AIOSCtlCommand.parseAsRoot(["secret", "list"]) as? SecretListCommand)
        let text = command.render(list, wide: false), wide = command.render(list, wide: true)
        #expect(text.hasPrefix("NAME  SOURCE  VAULT  TARGET   STATE   LAST SUCCESS          EXPIRES"))
        #expect(!text.contains("CONTENT HASH"))
        #expect(wide.contains("TYPE    OBJECTS      LAST ATTEMPT          CONTENT HASH"))
        #expect(wide.contains("Opaque  db-password  2023-11-14T22:13:20Z  sha256:012345678"))
    }

    @Test func listAllShowsUnselectedSecretSyncsWithWhyAndTheFix() throws {
        let list = SecretListResponse(secrets: [], invalid: [], unselected: [
            UnselectedSecretSync(name: "aio/other", reason: "not labelled aios.microsoft.com/agent=aiosd (cluster.secretSyncs: labelled)",
                                 fix: "kubectl label secretsync -n aio other aios.microsoft.com/agent=aiosd"),
        ])
        let plain = try #require(try AIOSCtlCommand.parseAsRoot(["secret", "list"]) as? SecretListCommand)
        #expect(plain.render(list, wide: false).contains("1 SecretSync(s) in the cluster are not synced; see: aiosctl secret list --all"))
        let all = try #require(try AIOSCtlCommand.parseAsRoot(["secret", "list", "--all"]) as? SecretListCommand)
        let text = all.render(list, wide: false)
        #expect(text.contains("aio/other  cluster  -      -       not synced"))
        #expect(text.contains("aio/other: not synced: not labelled aios.microsoft.com/agent=aiosd (cluster.secretSyncs: labelled)"))
        #expect(text.contains("  fix: kubectl label secretsync -n aio other aios.microsoft.com/agent=aiosd"))
    }

    @Test func statusShowsK3sAndTheIdentity() {
        let ready = K3sHealth(present: true, ready: true, configuredIssuer: "https://i/", runningIssuer: "https://i/", servedIssuer: "https://i/")
        #expect(StatusCommand.k3s(ready) == ["k3s:      ready", "          issuer https://i/ (configured, running and served)"])
        let pending = K3sHealth(present: true, ready: true, configuredIssuer: "https://new/", runningIssuer: "https://old/", servedIssuer: "https://old/",
                                restartPending: true)
        #expect(StatusCommand.k3s(pending) == [
            "k3s:      ready",
            "          issuer configured https://new/, running https://old/, served https://old/",
            "          the configuration is not applied yet: K3s has not been restarted since it changed (aiosctl k3s restart)",
        ])
        #expect(StatusCommand.k3s(K3sHealth(present: false, note: "no usable K3s admin kubeconfig")) == ["k3s:      not present: no usable K3s admin kubeconfig"])
        #expect(StatusCommand.k3s(K3sHealth(present: true, ready: false, note: "the API server does not answer /readyz with ok"))[0]
                == "k3s:      NOT READY: the API server does not answer /readyz with ok")
        let identity = IdentityHealth(method: .workloadIdentity, clientId: "c", tenantId: "t", serviceAccount: "aio/sa", enabled: false)
        #expect(StatusCommand.identity(identity)
                == "workloadIdentity, client c, tenant t, service account aio/sa; NOT ENABLED: K3s does not serve a configured issuer of its own (aiosctl doctor)")
        #expect(StatusCommand.identity(IdentityHealth(method: .managedIdentity, clientId: "c")) == "managedIdentity, client c")
    }

    /// One table of default timeouts; each command names its row.
    @Test func defaultTimeoutsComeFromOneTable() throws {
        #expect(try parse(StatusCommand.self, ["status"]).global.client(StatusCommand.timeout).timeout == .seconds(10))
        #expect(WorkloadIdentityStatusCommand.timeout == .k3sRead)
        #expect(K3sRestartCommand.timeout.seconds == 330)
        #expect(SystemdDaemonReloadCommand.timeout.seconds == 120)
        #expect(WorkloadIdentityEnableCommand.timeout == .long && SyncCommand.timeout == .long && APIServerArgSetCommand.timeout == .long)
        #expect(try parse(SyncCommand.self, ["sync", "--timeout", "5"]).global.client(SyncCommand.timeout).timeout == .seconds(5))
    }
}

/// Help, version and completion of the command tree.
@Suite struct CommandTreeTests {
    /// `secret add --version` pins an object version; aiosctl's own --version is the root's only.
    @Test func secretAddHelpListsVersionOnce() throws {
        let help = AIOSCtlCommand.helpMessage(for: SecretAddCommand.self)
        #expect(help.components(separatedBy: "--version").count == 2, "\(help)")
        #expect(help.contains("Pin this version"))
        #expect(AIOSCtlCommand.helpMessage().contains("aiosctl --version prints aiosctl's version"))
        #expect(try (AIOSCtlCommand.parseAsRoot(["secret", "add", "db", "--vault", "kv", "--object", "o", "--version", "0123"]) as? SecretAddCommand)?.version == "0123")
    }

    @Test func completionScriptsCompleteValuesFromAiosd() throws {
        let bash = AIOSCtlCommand.completionScript(for: .bash)
        #expect(bash.contains("---completion secret show"), "definition names are asked of aiosctl itself")
        #expect(bash.contains("utf-8") && bash.contains("base64") && bash.contains("pfx"), "fixed values are in the script")
        #expect(bash.contains("yaml") && bash.contains("wide"), "-o's values")
        #expect(Completion.socketPath(in: ["secret", "show", "--socket", "/tmp/x.sock"]) == "/tmp/x.sock")
        #expect(Completion.socketPath(in: ["--socket=/tmp/y.sock", "secret", "show"]) == "/tmp/y.sock")
        #expect(Completion.matching("w", ["web-tls", "db", "web-pem"]) == ["web-tls", "web-pem"])
        // No daemon on this socket: nothing to complete, and no error.
        #expect(Completion.definitionNames(["secret", "show", "--socket", "/nonexistent/aiosd.sock"], 2, "") == [])
    }
}
