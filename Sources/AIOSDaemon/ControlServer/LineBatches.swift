import Synchronization

/// The NDJSON lines of a streamed reply, from the job that makes them to the connection that writes them, in
/// batches: the job appends (never waits), and the writer wakes once per batch, `window` after its first line,
/// and takes every line there is. An AsyncStream of lines with the batch ended by a timer lost the race against
/// its own reader: a batch could end while thousands of lines sat in the stream, each then starting a batch of
/// its own, so a steady cycle's 10,000 lines, made in under a second, took seconds to arrive.
final class LineBatches: Sendable {
    private struct State {
        var pending: [UInt8] = []
        /// A wakeup is on its way to the writer (at most one at a time).
        var signaled = false
        var finished = false
    }

    private let state = Mutex(State())
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init() {
        (signals, signal) = AsyncStream.makeStream(of: Void.self)
    }

    /// Appends one line (with its newline); ignored after `finish`.
    func yield(_ line: [UInt8]) {
        let wake = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.pending += line
            defer { state.signaled = true }
            return !state.signaled
        }
        if wake { signal.yield() }
    }

    /// No more lines: the writer takes what is left at once and ends.
    func finish() {
        let wake = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.finished = true
            defer { state.signaled = true }
            return !state.signaled
        }
        if wake { signal.yield() }
        signal.finish()
    }

    /// Calls `write` with each batch (whole lines, in order) until `finish`, or until the calling task is cancelled.
    func forEachBatch(window: Duration, _ write: ([UInt8]) -> Void) async {
        for await _ in signals {
            if !state.withLock({ $0.finished }) {
                // The lines of the next `window` join this batch; cancelled, what there is goes now.
                try? await Task.sleep(for: window)
            }
            let (batch, finished) = state.withLock { state in
                defer {
                    state.pending = []
                    state.signaled = false
                }
                return (state.pending, state.finished)
            }
            if !batch.isEmpty { write(batch) }
            if finished { return }
        }
    }
}
