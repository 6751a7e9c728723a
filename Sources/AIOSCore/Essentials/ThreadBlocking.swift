import FoundationEssentials
import Glibc

/// NSCondition without Foundation: a pthread mutex and condition variable. `lock()`/`unlock()` guard the
/// state the waiters test; `wait` releases the lock while it sleeps.
public final class ThreadCondition: @unchecked Sendable {
    // @unchecked: the pthread objects are what makes this type thread-safe; they live on the heap and never move.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        // The default clock (CLOCK_REALTIME) is the one `wait(until: Date)` is given a deadline on.
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits for a signal until `deadline`; false when the deadline passed first.
    public func wait(until deadline: Date) -> Bool {
        let seconds = deadline.timeIntervalSince1970
        guard seconds.isFinite else { wait(); return true }
        let whole = seconds.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int(((seconds - whole) * 1e9).rounded(.down)))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    public func signal() { pthread_cond_signal(condition) }
    public func broadcast() { pthread_cond_broadcast(condition) }

    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// Thread.sleep(forTimeInterval:) without Foundation: blocks the calling thread (for the code that runs on
/// its own threads, never on the concurrency pool).
public enum ThreadSleep {
    public static func sleep(seconds: Double) {
        guard seconds > 0, seconds.isFinite else { return }
        let whole = seconds.rounded(.down)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int(((seconds - whole) * 1e9).rounded(.down)))
        var remaining = timespec()
        // Interrupted by a signal: sleep the rest.
        while nanosleep(&request, &remaining) == -1, errno == EINTR { request = remaining }
    }

    public static func sleep(_ duration: Duration) {
        sleep(seconds: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
