import Foundation
#if canImport(Testing)
import Testing
#endif

/// Runs test code that blocks (child processes, raw sockets, polling) off Swift's cooperative pool, which has only
/// as many threads as cores: a test blocking there while tests run in parallel starves every other test and the
/// in-process daemons, whose tasks need the pool to answer. The body stays in the calling task (the test's
/// context, so `#expect` is attributed to it), only on a thread of its own.
public func offCooperativePool<T>(_ body: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await body() }
}

/// A task executor that runs every job on a fresh thread: test code only (aiosd runs blocking work on fixed pools).
final class ThreadPerJobExecutor: TaskExecutor {
    static let shared = ThreadPerJobExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        Thread { job.runSynchronously(on: executor) }.start()
    }
}

#if canImport(Testing)
/// `@Suite(.offCooperativePool)`: every test of the suite runs as `offCooperativePool` runs its body. For suites
/// whose tests block: child processes (aiosd, aiosctl, openssl), waits on sockets.
public struct OffCooperativePool: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await AIOSTestSupport.offCooperativePool { try await function() }
    }
}

extension Trait where Self == OffCooperativePool {
    public static var offCooperativePool: Self { Self() }
}
#endif
