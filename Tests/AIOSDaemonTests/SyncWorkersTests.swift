@testable import AIOSCore
@testable import AIOSDaemon
import Foundation
import Synchronization
import Testing

/// The engine on aiosd's own worker pool (`SyncWorkers`): cycle after cycle with a progress callback, as
/// `aiosctl sync --wait` runs them. The pool's threads release their work items (which capture the callback)
/// after the cycle has returned; a callback that is not truly escaping traps aiosd there. `SecretSyncProgressTests`
/// makes that release certain with test workers; this one uses the real pool.
@Suite struct SyncWorkersTests {
    final class Seen: Sendable {
        let names = Mutex<[String]>([])
    }

    @Test func progressCallbackSurvivesTheRealPoolCycleAfterCycle() throws {
        let h = try SyncHarness(workers: SyncWorkers())
        h.configuration.sync.concurrency = 4
        let names = ["alpha", "bravo", "charlie", "delta"]
        let definitions = try h.definitions(names)
        for cycle in 0..<20 {
            let seen = Seen()
            let report = h.engine.run(definitions: definitions, invalid: [], force: cycle % 2 == 1, configuration: h.configuration) { outcome in
                seen.names.withLock { $0.append(outcome.name) }
            }
            #expect(report.outcomes.count == names.count && !report.failed)
            #expect(seen.names.withLock { $0 }.sorted() == names, "cycle \(cycle): one progress call per definition")
        }
        for name in names { #expect(h.value("apps", name, "password") == "value-of-\(name)") }
    }
}
