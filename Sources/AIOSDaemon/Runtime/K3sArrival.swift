import ServiceLifecycle
import Synchronization

/// The services that have nothing to do until this host runs a K3s server (leader election, the heartbeat, the
/// rollout agent) look for one every `interval`, or at once when a K3s job has just seen the API server answer.
/// An idle host without K3s is then woken once a minute per service, not every few seconds (idle wakeups are a
/// budget of issue 14); K3s installed without an `aiosctl` K3s job is noticed within a minute.
final class K3sArrival: Sendable {
    static let interval = Duration.seconds(60)

    private let waiters = Mutex<(next: Int, all: [Int: AsyncStream<Void>.Continuation])>((0, [:]))

    /// Ends every wait in progress: K3s may be here now.
    func announce() {
        for waiter in waiters.withLock({ Array($0.all.values) }) { waiter.yield() }
    }

    /// Sleeps `interval`, or less: `announce()`, a graceful shutdown or cancellation ends it.
    func wait(upTo interval: Duration = K3sArrival.interval) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = waiters.withLock { w -> Int in
            w.next += 1
            w.all[w.next] = continuation
            return w.next
        }
        defer { waiters.withLock { _ = $0.all.removeValue(forKey: id) } }
        _ = try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: interval) }
                group.addTask { for await _ in stream { return } }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
