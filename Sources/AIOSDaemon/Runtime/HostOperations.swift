import AIOSAPI
import AIOSCore
import AIOSSystemd
import Dispatch
import Foundation
import Logging

/// Runs host operations (daemon-reload, K3s restarts and changes) as jobs, one at a time on a thread of their
/// own: sd-bus calls block, and two restarts of K3s must never overlap. Others queue and are told their position.
public final class HostOperations: Sendable {
    private let queue = DispatchQueue(label: "aiosd.host-operations")
    let logger: Logger
    let store: JobStore
    /// The configuration in force now (a reload may change it between jobs).
    let configuration: @Sendable () -> AgentConfiguration
    /// Called after a K3s job succeeded: the API server has just been seen to answer (the sync's cluster watch
    /// starts or reconnects at once instead of waiting for its next attempt).
    let apiServerAnswered: @Sendable () -> Void

    init(logger: Logger, store: JobStore, configuration: @escaping @Sendable () -> AgentConfiguration = { AgentConfiguration() },
         apiServerAnswered: @escaping @Sendable () -> Void = {}) {
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

    /// Queues the roll-back of an interrupted K3s change, ahead of any request.
    func startRecovery() {
        let logger = self.logger
        let workflow = k3s()
        queue.async {
            guard let recovery = workflow.recoverInterruptedChange(observer: JobK3sChangeObserver(context: nil, logger: logger)) else { return }
            if recovery.succeeded {
                logger.notice("Interrupted K3s change rolled back", metadata: ["k3s.dropin": "\(recovery.path)"])
            } else {
                logger.error("Rolling back an interrupted K3s change failed", metadata: ["k3s.dropin": "\(recovery.path)", "error": "\(recovery.message)"])
            }
        }
    }

    /// A read-only operation on the host queue (no job record).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(APIError) -> T) async throws(APIError) -> T {
        let result: Result<T, APIError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(APIError) -> T in try body() })
            }
        }
        return try result.get()
    }

    /// A mutating operation as a job. With `Accept: application/x-ndjson` the reply streams the job's events;
    /// otherwise it is the usual JSON response once the job has finished.
    func job<T: Encodable & Sendable>(_ kind: String, request: APIRequest, touchesK3s: Bool,
                                      _ body: @escaping @Sendable (JobContext) throws(APIError) -> T) async throws(APIError) -> APIReply {
        let (record, position) = store.create(kind: kind)
        let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let streaming = request.wantsStream
        let emit: @Sendable (JobEvent) -> Void = { event in
            guard streaming, let line = try? APICoding.encoder().encode(event) else { return }
            continuation.yield(Array(line) + [0x0A])
        }
        emit(JobEvent(event: .queued, job: record.id, position: position))
        logger.notice("Host job queued", metadata: ["job.id": "\(record.id)", "job.kind": "\(kind)", "job.position": "\(position)"])

        let queue = self.queue, apiServerAnswered = self.apiServerAnswered
        let run = Task { [self] () -> Result<T, APIError> in
            await withCheckedContinuation { (done: CheckedContinuation<Result<T, APIError>, Never>) in
                queue.async {
                    let result = self.execute(record.id, kind: kind, touchesK3s: touchesK3s, emit: emit, body)
                    continuation.finish()
                    done.resume(returning: result)
                    if touchesK3s, case .success = result { apiServerAnswered() }
                }
            }
        }
        if streaming { return .ndjson(stream) }
        continuation.finish()
        switch await run.value {
        case .success(let value): return .json(value)
        case .failure(let error): throw error
        }
    }

    /// A job aiosd starts itself (its part of a rollout across the cluster's servers): queued like a request's,
    /// recorded and listed alike, and waited for. Must not be called from the host-operations queue.
    func runJob<T: Encodable & Sendable>(_ kind: String, touchesK3s: Bool, _ body: (JobContext) throws(APIError) -> T) -> Result<T, APIError> {
        let (record, position) = store.create(kind: kind)
        logger.notice("Host job queued", metadata: ["job.id": "\(record.id)", "job.kind": "\(kind)", "job.position": "\(position)"])
        let result = queue.sync { execute(record.id, kind: kind, touchesK3s: touchesK3s, emit: { _ in }, body) }
        if touchesK3s, case .success = result { apiServerAnswered() }
        return result
    }

    /// Runs a queued job on the host queue: its record through running to finished, its events, and K3s' journal
    /// when a K3s change failed.
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
