import AIOSAPI
import AIOSTestSupport
import Foundation
import Testing

/// Shell completion of values only aiosd knows, as the generated bash script asks for them: the real aiosctl with
/// `---completion`, talking to a real daemon over the socket named on the line being completed.
@Suite struct CompletionTests {
    func complete(_ path: [String], _ argument: String, words: [String]) throws -> ProcessResult {
        try runProcess(BuiltProducts.aiosctl, ["---completion"] + path + ["--", argument, "\(words.count - 1)", "\(words.last?.count ?? 0)"] + words,
                       environment: cleanEnvironment())
    }

    @Test func definitionNamesAndVaultsComeFromAiosd() async throws {
        let definitions = try TemporaryDirectory(prefix: "secrets.d")
        defer { definitions.remove() }
        try await DaemonHarness.withDaemon(config: SecretAPITests.config(definitions.path)) { daemon in
            _ = try daemon.client.call(API.secretAdd, SecretAPITests.request(SecretAPITests.plain))
            let show = try complete(["secret", "show"], "positional@0", words: ["aiosctl", "--socket", daemon.socketPath, "--timeout", "30", "secret", "show", "d"])
            #expect(show.status == 0, "\(show.stderr)")
            #expect(show.stdout.split(separator: "\n") == ["db"])
            let none = try complete(["secret", "remove"], "positional@0", words: ["aiosctl", "--socket", daemon.socketPath, "--timeout", "30", "secret", "remove", "x"])
            #expect(none.stdout.split(separator: "\n").isEmpty, "no definition starts with x")
            let vault = try complete(["secret", "add"], "--vault", words: ["aiosctl", "secret", "add", "n", "--socket", daemon.socketPath, "--timeout=30", "--vault", ""])
            #expect(vault.stdout.split(separator: "\n") == ["contoso-kv"])
        }
    }

    @Test func noDaemonCompletesNothingAndFailsNothing() throws {
        let result = try complete(["secret", "show"], "positional@0", words: ["aiosctl", "--socket", "/nonexistent/aiosd.sock", "secret", "show", ""])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && result.stderr.isEmpty)
    }
}
