@testable import AIOSCore
import Foundation
import Synchronization
import Testing

/// The per-definition progress callback (`aiosctl sync --wait` shows each secret as it is done). The engine's
/// workers capture it in their work items, and a pool thread may release its item after the cycle returned
/// (`ThreadWorkers` in the harness makes that certain), so the callback must escape for real: with
/// `withoutActuallyEscaping` this test traps (SIGILL, as aiosd did at the end of every sync).
@Suite struct SecretSyncProgressTests {
    /// What the callback captures; weakly watched to see it outlive the cycle.
    final class Seen: Sendable {
        let names = Mutex<[String]>([])
    }

    @Test func progressReportsEachDefinitionAndMayOutliveTheCycle() throws {
        let h = try SyncHarness()
        h.configuration.sync.concurrency = 3
        let names = ["alpha", "bravo", "charlie"]
        let definitions = try h.definitions(names)

        weak var watched: Seen?
        for expected in [SyncOutcome.Result.applied, .unchanged] {
            let seen = Seen()
            watched = seen
            // Forced, so every definition fetches and runs on the workers (one with nothing to fetch is done on the
            // cycle's own thread, and its work item would not outlive the cycle).
            let report = h.engine.run(definitions: definitions, invalid: [], force: true, configuration: h.configuration) { outcome in
                seen.names.withLock { $0.append("\(outcome.name):\(outcome.result)") }
            }
            #expect(report.outcomes.map(\.result) == [expected, expected, expected])
            #expect(seen.names.withLock { $0 }.sorted() == names.map { "\($0):\(expected)" }, "one progress call per definition, as it finished")
        }
        // The cycles are over and a worker still holds a work item that captured the last callback: the state a
        // non-escaping callback cannot survive. Without it this test could not fail, so it is asserted.
        #expect(h.workers.holdsWork)
        #expect(watched != nil, "the callback outlived its cycle in a worker's item")
        h.workers.dropFinishedWork()
        #expect(watched == nil, "released with the item")
        for name in names { #expect(h.value("apps", name, "password") == "value-of-\(name)") }
    }
}
