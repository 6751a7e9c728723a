@testable import AIOSCtl
import Testing

/// Completion asks aiosd within 2 s (a Tab press must not hang) or within the `--timeout` already on the line, for a
/// user on a loaded machine (and CompletionTests, which run in parallel with the whole suite); an invalid one is not used.
@Suite struct CompletionTimeoutTests {
    @Test func theLinesTimeoutBoundsTheQuestion() {
        #expect(Completion.timeout(in: ["aiosctl", "secret", "show", ""]) == .seconds(2))
        #expect(Completion.timeout(in: ["aiosctl", "--timeout", "30", "secret", "show", ""]) == .seconds(30))
        #expect(Completion.timeout(in: ["aiosctl", "--timeout=0.5", "jobs", "show", ""]) == .milliseconds(500))
        #expect(Completion.timeout(in: ["aiosctl", "--timeout", "never", "jobs", "show", ""]) == .seconds(2))
        #expect(Completion.timeout(in: ["aiosctl", "--timeout", "0", "jobs", "show", ""]) == .seconds(2))
        #expect(Completion.socketPath(in: ["aiosctl", "--socket=/run/x.sock", "jobs", "show", ""]) == "/run/x.sock")
    }
}
