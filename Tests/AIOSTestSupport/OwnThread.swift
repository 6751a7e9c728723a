import Foundation

/// Runs `body` on a thread of its own and awaits it: for test code that blocks (child processes, sockets,
/// poll) while the code under test needs Swift's cooperative pool, which has only as many threads as cores.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
