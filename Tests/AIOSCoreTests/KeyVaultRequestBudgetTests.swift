@testable import AIOSCore
import AIOSHTTP
import Foundation
import Testing

/// The per-vault window budget and the 429 backoff, on a virtual clock.
@Suite struct KeyVaultRequestBudgetTests {
    @Test func aSlotIsFreeOneWindowAfterItsAnswer() {
        let clock = VirtualClock()
        let budget = KeyVaultRequestBudget(limit: 3, window: .seconds(10), clock: clock.budgetClock)
        let start = clock.now
        for _ in 0..<3 { #expect(budget.tryAcquire(at: start) == .zero) }
        // Every slot in flight: look again shortly (an answer may come any time).
        #expect(budget.tryAcquire(at: start) == KeyVaultRequestBudget.busyPoll)
        budget.release(at: start + .seconds(1))
        budget.release(at: start + .seconds(2))
        // Answered at +1 s: that slot is free at +11 s, not 10 s after the request was sent.
        #expect(budget.tryAcquire(at: start + .seconds(3)) == .seconds(8))
        #expect(budget.used(at: start + .seconds(3)) == 3)
        #expect(budget.tryAcquire(at: start + .seconds(11)) == .zero)
        #expect(budget.tryAcquire(at: start + .seconds(11)) == .seconds(1))
        #expect(budget.tryAcquire(at: start + .seconds(12)) == .zero)
        #expect(budget.used(at: start + .seconds(12)) == 3, "the one never released is still in flight")
    }

    /// Three workers find the window full: each sleeps until its own slot frees (the oldest, the next, the one
    /// after), not all until the first; the first to ask again after waking may send.
    @Test func waitersSleepUntilSuccessiveSlotsFree() {
        let clock = VirtualClock()
        let budget = KeyVaultRequestBudget(limit: 3, window: .seconds(10), clock: clock.budgetClock)
        let start = clock.now
        for second in 1...3 {
            #expect(budget.tryAcquire(at: start) == .zero)
            budget.release(at: start + .seconds(second))
        }
        var places = [false, false, false]
        let waits = (0..<3).map { budget.tryAcquire(at: start + .seconds(4), queued: &places[$0]) }
        #expect(waits == [.seconds(7), .seconds(8), .seconds(9)])
        #expect(budget.tryAcquire(at: start + .seconds(11), queued: &places[0]) == .zero)
        #expect(budget.tryAcquire(at: start + .seconds(12), queued: &places[1]) == .zero)
        // Asked again too early (woken by something else): still behind no one, it waits for the next slot.
        #expect(budget.tryAcquire(at: start + .seconds(12), queued: &places[2]) == .seconds(1))
        #expect(budget.tryAcquire(at: start + .seconds(13), queued: &places[2]) == .zero)
        #expect(budget.used(at: start + .seconds(13)) == 3)
    }

    @Test func holdOffStopsEveryRequestToTheVault() {
        let clock = VirtualClock()
        let budget = KeyVaultRequestBudget(limit: 100, clock: clock.budgetClock)
        budget.holdOff(.seconds(4))
        budget.holdOff(.seconds(2))  // a shorter one does not shorten it
        #expect(budget.tryAcquire(at: clock.now) == .seconds(4))
        budget.acquire()
        #expect(clock.sleeps == [.seconds(4)])
    }

    /// A vault that counts arrivals in a sliding window as Key Vault does, and the budget in front of it: a first
    /// sync of 10,000 values + 400 list pages provokes no 429 and ends within Key Vault's floor (requests / 400 per s).
    @Test func aFirstSyncRunsAtTheLimitWithoutA429() {
        let clock = VirtualClock()
        let budget = KeyVaultRequestBudget(clock: clock.budgetClock)
        let vault = SlidingWindowVault(limit: 4000, window: .seconds(10))
        let start = clock.now
        let requests = 10_000 + 400
        for _ in 0..<requests {
            budget.acquire()
            clock.advance(.microseconds(300))  // on the way
            #expect(vault.admit(at: clock.now), "the vault would have answered 429")
            clock.advance(.microseconds(700))  // the answer
            budget.release()
        }
        let elapsed = clock.now - start
        let floor = Duration.seconds(Double(requests) / 400)
        #expect(elapsed <= floor * 1.1, "\(elapsed) for \(requests) requests; floor \(floor)")
        #expect(vault.throttled == 0)
    }

    /// Another client used the whole window: the request backs off 1, 2, 4, 8 s and goes through once the window
    /// has passed, instead of failing the cycle.
    @Test func throttlingThatALaterWindowClearsDoesNotFail() throws {
        let clock = VirtualClock()
        let vault = SlidingWindowVault(limit: 5, window: .seconds(10))
        for _ in 0..<5 { _ = vault.admit(at: clock.now) }  // someone else's burst
        let sleeps = SleepRecorder()
        let fake = FakeHTTP { request, _ in
            if request.header("Authorization") == nil { return KeyVaultClientTests.unauthorized }
            guard vault.admit(at: clock.now) else {
                return json(429, #"{"error":{"code":"Throttled","message":"Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"}}"#)
            }
            return json(200, #"{"value":"v","id":"\#(KeyVaultClientTests.base)/secrets/a/0123"}"#)
        }
        let budget = KeyVaultRequestBudget(limit: 4000, clock: clock.budgetClock)
        let client = try KeyVaultClient(vaultName: "demo-kv", dnsSuffix: "vault.azure.net", port: 443, credential: CountingCredential(), caBundlePEM: nil,
                                        budget: budget, retry: KeyVaultRetryPolicy(sleep: { sleeps.record($0); clock.advance($0) }),
                                        transport: fake.transport, logger: .init(label: "test"))
        #expect(try client.getSecret(name: "a").value == "v")
        #expect(sleeps.delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)])
        #expect(vault.throttled == 4)
    }

    @Test func fiveBackoffsThenTheCycleReportsThrottling() throws {
        let sleeps = SleepRecorder()
        let fake = FakeHTTP { request, _ in
            if request.header("Authorization") == nil { return KeyVaultClientTests.unauthorized }
            return json(429, #"{"error":{"code":"Throttled","message":"Request was not processed because too many requests were received."}}"#)
        }
        let client = try KeyVaultClient(vaultName: "demo-kv", dnsSuffix: "vault.azure.net", port: 443, credential: CountingCredential(), caBundlePEM: nil,
                                        budget: KeyVaultRequestBudget(clock: VirtualClock().budgetClock),
                                        retry: KeyVaultRetryPolicy(sleep: { sleeps.record($0) }), transport: fake.transport, logger: .init(label: "test"))
        #expect(throws: KeyVaultError.self) { _ = try client.listSecrets() }
        #expect(sleeps.delays == KeyVaultRetryPolicy.microsoftThrottledDelays)
        #expect(fake.requests.count == 1 + 6)
    }
}

/// Key Vault's accounting as its docs describe it: at most `limit` requests arrive in any `window`; a refused one
/// does not count.
final class SlidingWindowVault: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private let window: Duration
    private var arrivals: [ContinuousClock.Instant] = []
    private var oldest = 0
    private var _throttled = 0

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    var throttled: Int { lock.withLock { _throttled } }

    func admit(at now: ContinuousClock.Instant) -> Bool {
        lock.withLock {
            while oldest < arrivals.count, arrivals[oldest] <= now - window { oldest += 1 }
            guard arrivals.count - oldest < limit else {
                _throttled += 1
                return false
            }
            arrivals.append(now)
            return true
        }
    }
}
