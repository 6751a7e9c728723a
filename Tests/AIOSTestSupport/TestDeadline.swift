import Glibc

/// How long a test may wait for something that takes milliseconds on an idle machine: an answer, a close, a
/// notification, a child's READY=1. A deadline, not a wait (a passing test never waits it out): the suite runs in
/// parallel on 2-core machines shared with builds, where such a thing has taken more than 5 s. A test that asserts
/// that something does not happen, or measures a time, keeps its own short wait.
public enum TestDeadline {
    public static let answer: Duration = .seconds(30)
}

/// Polling for a state the code under test reaches on its own, every 50 ms until `TestDeadline.answer`.
public enum Poll {
    /// True as soon as `condition` holds; false (its last value) once the deadline passed.
    public static func until(_ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + TestDeadline.answer
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    /// `until` for a test body that runs on a thread of its own (blocking calls).
    public static func blockingUntil(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + TestDeadline.answer
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}
