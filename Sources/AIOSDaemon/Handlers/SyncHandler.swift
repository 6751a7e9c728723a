import AIOSAPI
import AIOSCore
import FoundationEssentials

/// `POST /v1/sync`: sync now. With `wait` the reply is the cycle's outcome (streamed as NDJSON events with
/// `Accept: application/x-ndjson`); without it the cycle is started and the reply comes at once.
struct SyncHandler: APIMethodHandler {
    let method = API.sync
    let runner: SecretSyncRunner
    /// Runs a cycle the reply does not wait for, and the producer of a streamed reply.
    let tasks: TaskSupervisor

    func handle(_ request: APIRequest) async throws(APIError) -> APIReply {
        let body = try self.body(of: request, expected: "{\"wait\": true, \"force\": false}")
        let runner = self.runner
        guard body.wait else {
            guard tasks.spawn({ _ = try? await runner.cycle(force: body.force, reason: "api") }) else { throw TaskSupervisor.stopping }
            return reply(SyncResponse(finished: false), status: 202)
        }
        guard request.wantsStream else {
            do {
                return reply(SecretWire.response(try await runner.cycle(force: body.force, reason: "api")))
            } catch {
                throw TaskSupervisor.stopping
            }
        }
        let stream = LineBatches()
        // One encoder for the stream's thousands of events (it is safe to share between the workers' threads).
        let encoder = APICoding.encoder()
        let emit: @Sendable (SyncEvent) -> Void = { event in
            guard let line = SyncEventLine.line(event, encoder: encoder) else { return }
            stream.yield(line)
        }
        if runner.isRunning { emit(SyncEvent(event: .queued)) }
        let started = tasks.spawn {
            // Cancelled (aiosd stopping): the stream ends without a `finished` event; the client reports that.
            if let report = try? await runner.cycle(force: body.force, reason: "api",
                                                    onStart: { emit(SyncEvent(event: .started, total: $0)) },
                                                    onResult: { emit(SyncEvent(event: .secret, result: SecretWire.result($0))) }) {
                emit(SyncEvent(event: .finished, response: SecretWire.response(report)))
            }
            stream.finish()
        }
        guard started else { throw TaskSupervisor.stopping }
        return .ndjson(stream)
    }
}
