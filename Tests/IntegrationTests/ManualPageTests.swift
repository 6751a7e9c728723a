import AIOSTestSupport
import Foundation
import Testing

/// aiosctl(8)'s OPTIONS and COMMANDS are generated from the built aiosctl's command tree: the checked-in page must be
/// what the generator makes of this build, so a new command, option or help text cannot leave the page stale.
@Suite struct ManualPageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    @Test func aiosctl8IsGeneratedFromThisCommandTree() throws {
        let generator = Self.repository.appendingPathComponent("packaging/man/generate-aiosctl-8").path
        let result = try runProcess("/usr/bin/python3", [generator, "--check", BuiltProducts.aiosctl], environment: cleanEnvironment())
        #expect(result.status == 0, "regenerate with: packaging/man/generate-aiosctl-8 \(BuiltProducts.aiosctl)\n\(result.stdout)\(result.stderr)")
    }

    /// Every command of the tree has its section (the check above compares text; this names what is missing).
    @Test func everyCommandHasASection() throws {
        let page = try String(contentsOf: Self.repository.appendingPathComponent("packaging/man/aiosctl.8"), encoding: .utf8)
        for section in ["status", "version", "doctor", "config reload", "secret add", "secret list", "secret show", "secret remove", "sync",
                        "jobs list", "jobs show", "k3s restart", "k3s config", "k3s apiserver\\-arg set", "workload\\-identity enable"] {
            #expect(page.contains(".SS \(section)\n"), "aiosctl.8 has no section for \(section)")
        }
    }
}
