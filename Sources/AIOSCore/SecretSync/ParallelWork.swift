import Dispatch
import Synchronization

/// Threads that blocking work (HTTP requests) is spread over. The daemon's are a fixed pool of its own (never
/// Swift's cooperative pool); the domain only asks for up to `width` of them at once.
public protocol BlockingWorkers: Sendable {
    /// Starts `work` on a thread of a pool of `width` threads (queued while all are busy).
    func execute(width: Int, _ work: @escaping @Sendable () -> Void)
}

/// Blocking work spread over a bounded number of threads.
enum ParallelWork {
    /// Runs `body` for every item, at most `width` at once, on `workers`; returns when all are done. The calling
    /// thread only waits (it is a blocking-pool thread itself, never a cooperative one).
    static func run<T: Sendable>(_ items: [T], width: Int, on workers: any BlockingWorkers, _ body: @escaping @Sendable (T) -> Void) {
        guard !items.isEmpty else { return }
        if items.count == 1 || width <= 1 {
            items.forEach(body)  // nothing to overlap: no thread hop
            return
        }
        let next = Mutex(0)
        let lanes = min(max(1, width), items.count)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<lanes {
            workers.execute(width: max(1, width)) {
                while let index = next.withLock({ n -> Int? in
                    guard n < items.count else { return nil }
                    defer { n += 1 }
                    return n
                }) {
                    body(items[index])
                }
                finished.signal()
            }
        }
        for _ in 0..<lanes { finished.wait() }
    }
}
