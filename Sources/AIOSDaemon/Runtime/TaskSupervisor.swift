import AIOSAPI
import ServiceLifecycle

/// Work that outlives the call that starts it runs here, as a child task of this service, never as a free
/// `Task {}`: a control request and its streamed reply, a sync started without `--wait`, a retry after a delay.
/// Shutdown is then structural: a graceful shutdown stops taking work and waits for what runs (within
/// `shutdownTimeout`); cancellation reaches every child.
public final class TaskSupervisor: Service, Sendable {
    public static let serviceName = "task-supervisor"
    public typealias Work = @Sendable () async -> Void

    private let intake: AsyncStream<Work>
    private let continuation: AsyncStream<Work>.Continuation

    public init() {
        (intake, continuation) = AsyncStream.makeStream(of: Work.self)
    }

    /// Starts `work` as a child task; false once the supervisor no longer takes work (aiosd is stopping).
    @discardableResult
    public func spawn(_ work: @escaping Work) -> Bool {
        if case .enqueued = continuation.yield(work) { return true }
        return false
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for await work in intake.cancelOnGracefulShutdown() {
                group.addTask { await work() }
            }
            // Graceful shutdown: nothing new is taken; what was taken before runs (a request's reply must be
            // completed), and the group waits for the children still running.
            continuation.finish()
            for await work in intake {
                group.addTask { await work() }
            }
        }
    }

    /// What a request gets when it arrives after the shutdown began.
    static let stopping = APIError(code: .unavailable, message: "aiosd is shutting down")
}
