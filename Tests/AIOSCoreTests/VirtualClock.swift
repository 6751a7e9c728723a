@testable import AIOSCore
import Foundation

/// Time that passes only when someone sleeps in it: budgets and backoffs cost no real time, and every wait is recorded.
final class VirtualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var _now = ContinuousClock.now
    private var _sleeps: [Duration] = []

    var now: ContinuousClock.Instant { lock.withLock { _now } }
    var sleeps: [Duration] { lock.withLock { _sleeps } }
    func advance(_ duration: Duration) { lock.withLock { _now += duration } }

    var budgetClock: KeyVaultRequestBudget.BudgetClock {
        KeyVaultRequestBudget.BudgetClock(now: { self.now }, sleep: { duration in
            self.lock.withLock {
                self._sleeps.append(duration)
                self._now += duration
            }
        })
    }
}
