import Foundation
import Synchronization

/// A token bucket limiting the requests sent to one vault by everything in this process (Key Vault throttles
/// per vault; several syncs on one host must share the allowance). `acquire()` blocks until a request may go.
public final class KeyVaultRequestBudget: Sendable {
    public let requestsPerSecond: Double
    public let burst: Double
    private let state: Mutex<(tokens: Double, refilledAt: ContinuousClock.Instant)>

    private static let registry = Mutex<[String: KeyVaultRequestBudget]>([:])

    public init(requestsPerSecond: Double = 100, burst: Double = 200) {
        self.requestsPerSecond = max(requestsPerSecond, 0.001)
        self.burst = max(burst, 1)
        state = Mutex((tokens: max(burst, 1), refilledAt: ContinuousClock.now))
    }

    /// The process-wide budget of the vault at `host` (e.g. `demo-kv.vault.azure.net`). The first caller's
    /// limits create it; later callers share it whatever they pass.
    public static func shared(host: String, requestsPerSecond: Double = 100, burst: Double = 200) -> KeyVaultRequestBudget {
        registry.withLock { budgets in
            if let budget = budgets[host.lowercased()] { return budget }
            let budget = KeyVaultRequestBudget(requestsPerSecond: requestsPerSecond, burst: burst)
            budgets[host.lowercased()] = budget
            return budget
        }
    }

    /// Blocks until one request may be sent.
    public func acquire() {
        let wait = reserve(at: ContinuousClock.now)
        if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18) }
    }

    /// Takes one token at `now` and returns how long the caller must wait for it. The bucket may go negative:
    /// that queues callers in arrival order, each waiting for its own token.
    func reserve(at now: ContinuousClock.Instant) -> Duration {
        state.withLock { state in
            let elapsed = now - state.refilledAt
            if elapsed > .zero {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                state.tokens = min(burst, state.tokens + seconds * requestsPerSecond)
                state.refilledAt = now
            }
            state.tokens -= 1
            return state.tokens >= 0 ? .zero : .seconds(-state.tokens / requestsPerSecond)
        }
    }
}
