import AIOSAPI
import AIOSCore
import AIOSSystemd
import Dispatch
import FoundationEssentials
import Logging
import Synchronization

/// Runs host operations (daemon-reload, K3s restarts and changes) as jobs, one at a time on a thread of their
/// own: sd-bus calls block, and two restarts of K3s must never overlap. Others queue and are told their position.
/// `HostJobService` serves the queue (`serve()`), after rolling back a K3s change a crash interrupted.
public final class HostOperations: Sendable {
    /// A queued operation: called with true to run it, false to drop it (aiosd stopping).
    typealias Work = @Sendable (_ run: Bool) async -> Void
    private let queue: AsyncStream<Work>
    private let queueIn: AsyncStream<Work>.Continuation
    /// sd-bus, journal and file calls block: they run here, never on the cooperative pool.
    private let thread = BlockingPool(threads: 1)
    /// Where a new job is recorded (the store writes its file with fsync) while the host-jobs thread is busy.
    private let io: BlockingPool
    let logger: Logger
    let store: JobStore
    /// The configuration in force now (a reload may change it between jobs).
    let configuration: @Sendable () -> AgentConfiguration
    /// Called after a K3s job succeeded: the API server has just been seen to answer (the sync's cluster watch
    /// starts or reconnects at once instead of waiting for its next attempt).
    let apiServerAnswered: @Sendable () -> Void

    init(logger: Logger, store: JobStore, io: BlockingPool, configuration: @escaping @Sendable () -> AgentConfiguration = { AgentConfiguration() },
         apiServerAnswered: @escaping @Sendable () -> Void = {}) {
        (queue, queueIn) = AsyncStream.makeStream(of: Work.self)
        self.io = io
        self.logger = logger
        self.store = store
        self.configuration = configuration
        self.apiServerAnswered = apiServerAnswered
    }

    /// The K3s change workflow on this host, with the configured readiness deadline.
    func k3s() -> K3sChangeWorkflow {
        K3sChangeWorkflow(unit: SystemdK3sUnit(logger: logger), probe: KubeconfigAPIServerProbe(), files: LocalK3sFiles(),
                          stateDirectory: Defaults.stateDirectory, readyTimeout: configuration().k3s.readyTimeout)
    }

    /// A K3s change as `context`'s job: the core's error turned into the wire's.
    func k3sChange(_ context: JobContext, _ body: (K3sChangeWorkflow, K3sChangeObserver) throws(K3sChangeError) -> K3sChangeWorkflow.Outcome)
        throws(APIError) -> K3sChangeResponse {
        do {
            let outcome = try body(k3s(), JobK3sChangeObserver(context: context, logger: logger))
            return K3sChangeResponse(changed: outcome.changed, dropIn: outcome.dropIn,
                                     steps: outcome.steps.map { JobStep(name: $0.name, ok: $0.ok, seconds: $0.seconds, detail: $0.detail) },
                                     servedIssuer: outcome.servedIssuer)
        } catch {
            throw error.apiError
        }
    }

    /// Finishes a K3s change a crash interrupted (kept if verified, else rolled back), then runs queued operations one at a time until a graceful
    /// shutdown (the one running then finishes, or is abandoned when the shutdown runs out of time); what is
    /// still queued is dropped: its job stays `queued` and is marked `interrupted` at the next start.
    func serve() async {
        let logger = self.logger
        let workflow = k3s()
        _ = try? await thread.run {
            guard let recovery = workflow.recoverInterruptedChange(observer: JobK3sChangeObserver(context: nil, logger: logger)) else { return }
            if recovery.keptVerifiedChange {
                logger.notice("Interrupted K3s change was verified and is kept", metadata: ["k3s.dropin": "\(recovery.path)"])
            } else if recovery.succeeded {
                logger.notice("Interrupted K3s change rolled back", metadata: ["k3s.dropin": "\(recovery.path)"])
            } else {
                logger.error("Rolling back an interrupted K3s change failed", metadata: ["k3s.dropin": "\(recovery.path)", "error": "\(recovery.message)"])
            }
        }
        for await work in queue.cancelOnGracefulShutdown() {
            await work(!Task.isCancelled)
        }
        queueIn.finish()
        for await work in queue { await work(false) }
    }

    /// Queues `work`; false when the queue is closed (aiosd stopping).
    private func enqueue(_ work: @escaping Work) -> Bool {
        if case .enqueued = queueIn.yield(work) { return true }
        return false
    }

    /// Runs `body` on the host-jobs thread in its turn and returns its result.
    private func inTurn<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async -> Result<T, APIError> {
        let thread = self.thread
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, APIError>, Never>) in
            let queued = enqueue { run in
                guard run, let result = try? await thread.run({ Result { () throws(APIError) -> T in try body() } }) else {
                    continuation.resume(returning: .failure(TaskSupervisor.stopping))
                    return
                }
                continuation.resume(returning: result)
            }
            if !queued { continuation.resume(returning: .failure(TaskSupervisor.stopping)) }
        }
    }

    /// A read-only operation on the host-jobs thread, in its turn (no job record).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        try await inTurn(body).get()
    }

    /// A mutating operation as a job. With `Accept: application/x-ndjson` the reply streams the job's events;
    /// otherwise it is the usual JSON response once the job has finished.
    func job<T: Encodable & Sendable>(_ kind: String, request: APIRequest, touchesK3s: Bool,
                                      _ body: @escaping @Sendable (JobContext) throws(APIError) -> T) async throws(APIError) -> APIReply {
        if touchesK3s, NodeRole.detect(kubeconfig: configuration().sync.kubeconfig) == .agent {
            throw APIError(code: .badRequest, message: "this host is a K3s agent (worker) node: \(K3sChangeWorkflow.agentUnitName) runs no API server, so aiosd changes nothing of K3s here",
                           hint: "run it on a K3s server node (aiosctl cluster status lists them)")
        }
        let store = self.store
        let (record, position) = try await io.reply { store.create(kind: kind) }
        let stream = LineBatches()
        let streaming = request.wantsStream
        let emit: @Sendable (JobEvent) -> Void = { event in
            guard streaming, let line = try? APICoding.encoder().encode(event) else { return }
            stream.yield(Array(line) + [0x0A])
        }
        emit(JobEvent(event: .queued, job: record.id, position: position))
        logger.notice("Host job queued", metadata: ["job.id": "\(record.id)", "job.kind": "\(kind)", "job.position": "\(position)"])

        let execute: @Sendable () throws(APIError) -> T = { [self] () throws(APIError) -> T in
            let result = self.execute(record.id, kind: kind, touchesK3s: touchesK3s, emit: emit, body)
            stream.finish()
            if touchesK3s, case .success = result { self.apiServerAnswered() }
            return try result.get()
        }
        if streaming {
            // The reply is the stream: the job runs in its turn while the connection writes what it emits. Dropped
            // (aiosd stopping), the stream just ends.
            let thread = self.thread
            let queued = enqueue { run in
                guard run else { return stream.finish() }
                if (try? await thread.run({ _ = try? execute() })) == nil { stream.finish() }
            }
            guard queued else { throw TaskSupervisor.stopping }
            return .ndjson(stream)
        }
        stream.finish()
        return .json(try await inTurn(execute).get())
    }

    /// A job aiosd starts itself (its part of a rollout across the cluster's servers): queued like a request's,
    /// recorded and listed alike, and waited for. Called from a blocking thread of its own (the rollout
    /// service's), never from the cooperative pool or the host-jobs thread: it waits for the job's turn.
    func runJob<T: Encodable & Sendable>(_ kind: String, touchesK3s: Bool,
                                         _ body: @escaping @Sendable (JobContext) throws(APIError) -> T) -> Result<T, APIError> {
        let (record, position) = store.create(kind: kind)
        logger.notice("Host job queued", metadata: ["job.id": "\(record.id)", "job.kind": "\(kind)", "job.position": "\(position)"])
        let outcome = Mutex<Result<T, APIError>>(.failure(TaskSupervisor.stopping))
        let finished = DispatchSemaphore(value: 0)
        let thread = self.thread
        let queued = enqueue { [self] run in
            if run {
                _ = try? await thread.run {
                    let result = self.execute(record.id, kind: kind, touchesK3s: touchesK3s, emit: { _ in }, body)
                    outcome.withLock { $0 = result }
                }
            }
            finished.signal()
        }
        guard queued else { return .failure(TaskSupervisor.stopping) }
        finished.wait()
        let result = outcome.withLock { $0 }
        if touchesK3s, case .success = result { apiServerAnswered() }
        return result
    }

    /// Runs a job in its turn on the host-jobs thread: its record through running to finished, its events, and
    /// K3s' journal when a K3s change failed.
    private func execute<T: Encodable & Sendable>(_ id: String, kind: String, touchesK3s: Bool, emit: @escaping @Sendable (JobEvent) -> Void,
                                                  _ body: (JobContext) throws(APIError) -> T) -> Result<T, APIError> {
        store.update(id) {
            $0.state = .running
            $0.startedAt = Date()
        }
        emit(JobEvent(event: .started, job: id))
        let context = JobContext(id: id, store: store, emit: emit)
        let result = Result { () throws(APIError) -> T in try body(context) }
        let failed = (try? result.get()) == nil
        // A K3s change captures K3s' journal at the moment it failed, before its rollback restarts K3s.
        let journal = touchesK3s && failed && store.get(id)?.k3sJournal == nil
            ? JournalReader.tail(unit: K3sDefaults.unit, count: JobContext.journalLines) : nil
        let final = store.update(id) {
            $0.finishedAt = Date()
            switch result {
            case .success: $0.state = .succeeded
            case .failure(let error):
                $0.state = .failed
                $0.error = error
                if let journal { $0.k3sJournal = journal }
            }
        }
        logger.notice("Host job finished", metadata: [
            "job.id": "\(id)", "job.kind": "\(kind)", "job.state": "\(final?.state.rawValue ?? "?")",
        ])
        let response = (try? result.get()).flatMap { try? APICoding.encoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
        emit(JobEvent(event: .finished, job: id, record: final, response: response))
        return result
    }

    static func apiError(_ error: SystemdError, doing what: String) -> APIError {
        if error.isAccessDenied {
            return APIError(code: .systemdError, message: "systemd refused to \(what): \(error)",
                            hint: "aiosd needs to run as root with CAP_SYS_ADMIN (see aiosd.service)")
        }
        return APIError(code: .systemdError, message: "cannot \(what): \(error)", hint: "check: systemctl status")
    }
}

/// What a running job reports its progress through.
struct JobContext: Sendable {
    let id: String
    let store: JobStore
    let emit: @Sendable (JobEvent) -> Void

    func stepStarted(_ name: String) {
        emit(JobEvent(event: .stepStarted, job: id, stepName: name))
    }

    func stepFinished(_ step: JobStep) {
        store.update(id) { $0.steps.append(step) }
        emit(JobEvent(event: .step, job: id, step: step))
    }

    static let journalLines = 12

    /// Keeps K3s' last journal lines with the job: called when K3s fails, before anything restarts it again.
    func captureK3sJournal() {
        let lines = JournalReader.tail(unit: K3sDefaults.unit, count: Self.journalLines)
        store.update(id) { $0.k3sJournal = lines }
    }
}
