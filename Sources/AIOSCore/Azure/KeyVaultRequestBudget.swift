import FoundationEssentials
import Synchronization

/// Key Vault's service limit as aiosd paces itself to it: at most `limit` requests to one vault in any `window`
/// (Key Vault allows 4,000 per 10 s per vault, every operation alike; learn.microsoft.com/azure/key-vault/general/
/// service-limits). Shared by everything in this process that talks to the vault (`shared(host:)`).
///
/// A request holds a slot from `acquire()` until its answer arrives (`release()`); the slot is free again one
/// window after that. The vault counted the request when it arrived, which was before its answer did, so no
/// window of the vault's can ever see more than `limit` of ours, whatever the latency: a first sync runs at the
/// limit and provokes no 429. When a 429 comes anyway (another client shares the vault), `holdOff` stops every
/// request of this process to the vault for the backoff, not just the one that was refused.
public final class KeyVaultRequestBudget: Sendable {
    public let limit: Int
    public let window: Duration
    private let clock: BudgetClock
    private let state: Mutex<State>

    /// When requests started and finished; `release` order is time order, so the oldest is first.
    private struct State {
        var inFlight = 0
        var released: [ContinuousClock.Instant] = []
        var oldest = 0
        var heldUntil: ContinuousClock.Instant?
        /// Callers asleep until a slot frees: the next one to ask waits for the slot after theirs.
        var waiting = 0

        var used: Int { inFlight + released.count - oldest }

        mutating func forget(before instant: ContinuousClock.Instant) {
            while oldest < released.count, released[oldest] <= instant { oldest += 1 }
            if oldest > 1024, oldest * 2 > released.count {
                released.removeFirst(oldest)
                oldest = 0
            }
        }
    }

    /// Now and a way to wait; tests pass a fake one.
    public struct BudgetClock: Sendable {
        public var now: @Sendable () -> ContinuousClock.Instant
        public var sleep: @Sendable (Duration) -> Void

        public init(now: @escaping @Sendable () -> ContinuousClock.Instant, sleep: @escaping @Sendable (Duration) -> Void) {
            self.now = now
            self.sleep = sleep
        }

        public static let continuous = BudgetClock(now: { ContinuousClock.now }, sleep: { ThreadSleep.sleep(seconds: $0.seconds) })
    }

    /// Key Vault's own limit for secrets.
    public static let serviceLimit = 4000
    public static let serviceWindow = Duration.seconds(10)
    /// How often a caller looks again while every slot is in flight (only when `limit` is below the concurrency).
    static let busyPoll = Duration.milliseconds(5)

    private static let registry = Mutex<[String: KeyVaultRequestBudget]>([:])

    public init(limit: Int = serviceLimit, window: Duration = serviceWindow, clock: BudgetClock = .continuous) {
        self.limit = max(limit, 1)
        self.window = max(window, .milliseconds(1))
        self.clock = clock
        state = Mutex(State())
    }

    /// The process-wide budget of the vault at `host` (e.g. `demo-kv.vault.azure.net`). The first caller's
    /// limits create it; later callers share it whatever they pass.
    public static func shared(host: String, limit: Int = serviceLimit, window: Duration = serviceWindow) -> KeyVaultRequestBudget {
        registry.withLock { budgets in
            if let budget = budgets[host.lowercased()] { return budget }
            let budget = KeyVaultRequestBudget(limit: limit, window: window)
            budgets[host.lowercased()] = budget
            return budget
        }
    }

    /// Blocks until one request may be sent; pair every call with `release()` once its answer (or failure) is in.
    public func acquire() {
        var queued = false
        while true {
            let wait = tryAcquire(at: clock.now(), queued: &queued)
            if wait == .zero { return }
            clock.sleep(wait)
        }
    }

    /// The request's answer arrived: its slot counts for one more window from now.
    public func release() { release(at: clock.now()) }

    /// After a 429: no request of this process goes to the vault before `delay` has passed.
    public func holdOff(_ delay: Duration) {
        let until = clock.now() + delay
        state.withLock { state in
            if state.heldUntil.map({ $0 < until }) ?? true { state.heldUntil = until }
        }
    }

    /// Takes a slot at `now` and returns `.zero`, or returns how long to wait before asking again.
    func tryAcquire(at now: ContinuousClock.Instant) -> Duration {
        var queued = false
        let wait = tryAcquire(at: now, queued: &queued)
        if queued { state.withLock { $0.waiting -= 1 } }
        return wait
    }

    /// As above for a caller that sleeps the wait (`queued` is its place among the sleepers). The n-th sleeper
    /// waits for the n-th slot to free: when they all waited for the first, every paced request of a first sync
    /// (6,000 of 10,400 at N = 10,000) woke all eight workers for one of them to send. Only when a sleeper asks
    /// again is it decided whether it may send, so the order of wakeups never lets more than `limit` through.
    func tryAcquire(at now: ContinuousClock.Instant, queued: inout Bool) -> Duration {
        state.withLock { state in
            if queued {
                state.waiting -= 1
                queued = false
            }
            if let held = state.heldUntil {
                if held > now { return held - now }
                state.heldUntil = nil
            }
            state.forget(before: now - window)
            if state.used < limit {
                state.inFlight += 1
                return .zero
            }
            let slot = state.oldest + state.waiting
            guard slot < state.released.count else { return Self.busyPoll }
            state.waiting += 1
            queued = true
            return max(state.released[slot] + window - now, .nanoseconds(1))
        }
    }

    func release(at now: ContinuousClock.Instant) {
        state.withLock { state in
            guard state.inFlight > 0 else { return }
            state.inFlight -= 1
            state.released.append(now)
        }
    }

    /// Requests that count against the window at `now` (in flight or answered within it).
    func used(at now: ContinuousClock.Instant) -> Int {
        state.withLock { state in
            state.forget(before: now - window)
            return state.used
        }
    }
}
