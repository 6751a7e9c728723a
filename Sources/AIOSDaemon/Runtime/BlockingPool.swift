import AIOSAPI
import NIOPosix
import Synchronization

/// A fixed number of threads for work that blocks: HTTP requests, file reads, sd-bus calls, subprocesses.
/// Such work never runs on Swift's cooperative pool (two threads on a two-core host: one blocked call there
/// stalls every task) nor on an event loop. A pool of one thread runs its work in submission order, one item
/// at a time, which is how sync cycles and host jobs stay serialized.
public final class BlockingPool: Sendable {
    public var size: Int { threads.numberOfThreads }
    private let threads: NIOThreadPool

    public init(threads: Int) {
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    ///
    /// Cancellation: work not started yet is skipped (CancellationError). Work already running cannot be
    /// interrupted (a blocked HTTP or sd-bus call has no safe way out); the caller stops waiting for it at
    /// once and its result is dropped, so a shutdown that has run out of `shutdownTimeout` is never held up by it.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let waiter = Waiter<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                guard waiter.install(continuation) else { return }
                threads.submit { state in
                    guard state == .active, waiter.start() else {
                        waiter.finish(.failure(CancellationError()))
                        return
                    }
                    waiter.finish(Result(catching: body))
                }
            }
        } onCancel: {
            waiter.finish(.failure(CancellationError()))
        }
    }

    /// Starts `work` on one of the threads when one is free, for a caller that is itself a blocking thread and
    /// waits for it by other means (`ParallelWork`). Dropped if the pool is gone.
    public func submit(_ work: @escaping @Sendable () -> Void) {
        threads.submit { state in
            if state == .active { work() }
        }
    }

    /// `run` for a control request: being cancelled means aiosd is stopping, and the client is told so.
    func reply<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(APIError) -> T {
        do {
            return try await run(body)
        } catch {
            throw TaskSupervisor.stopping
        }
    }

    /// Work queued and not started is dropped; an item still running finishes on its thread, unwaited (it may be
    /// blocked, and the process is about to exit).
    deinit {
        threads.shutdownGracefully { _ in }
    }

    /// One caller's continuation: resumed exactly once, by the result or by cancellation, whichever comes first.
    private final class Waiter<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var cancelled = false
            var finished = false
        }
        private let state = Mutex(State())

        /// False when cancellation came first (the continuation is resumed with CancellationError here).
        func install(_ continuation: CheckedContinuation<T, any Error>) -> Bool {
            let cancelled = state.withLock { s -> Bool in
                if s.cancelled { s.finished = true; return true }
                s.continuation = continuation
                return false
            }
            if cancelled { continuation.resume(throwing: CancellationError()) }
            return !cancelled
        }

        /// True when the work should run (its caller still waits).
        func start() -> Bool {
            state.withLock { !$0.finished }
        }

        func finish(_ result: Result<T, any Error>) {
            let continuation = state.withLock { s -> CheckedContinuation<T, any Error>? in
                if case .failure(let error) = result, error is CancellationError { s.cancelled = true }
                guard !s.finished else { return nil }
                guard let continuation = s.continuation else { return nil }
                s.finished = true
                s.continuation = nil
                return continuation
            }
            continuation?.resume(with: result)
        }
    }
}
