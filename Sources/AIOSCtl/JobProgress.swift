import AIOSAPI
import AIOSClient
import FoundationEssentials
import Glibc

/// Renders a job's progress: on a terminal a live line per step, otherwise one plain line per finished step;
/// with `--json`, the events themselves (NDJSON).
struct JobProgress {
    let json: Bool
    let live = isatty(STDOUT_FILENO) == 1

    func show(_ event: JobEvent, line: [UInt8]) {
        if json {
            Output.printJSON(line)
            return
        }
        switch event.event {
        case .queued:
            if let position = event.position, position > 0 { Output.print("job \(event.job) queued: \(position) job(s) ahead") }
        case .stepStarted:
            if live, let name = event.stepName { Output.printRaw("  ...  \(name)") }
        case .step:
            guard let step = event.step else { return }
            let text = "  \(step.ok ? "ok  " : "FAIL") \(step.name) (\(DurationText.format(seconds: step.seconds)))\(step.detail.map { ": \($0)" } ?? "")"
            Output.print(live ? "\r\u{1B}[K" + text : text)
        case .started, .finished:
            break
        }
    }

    /// Runs `endpoint` as a job and decodes its final response.
    static func run<Response: Decodable>(_ endpoint: Endpoint, body: [UInt8]? = nil, as type: Response.Type,
                                         global: GlobalOptions, defaultTimeout: Double) throws(ClientError) -> Response? {
        let progress = JobProgress(json: global.json)
        let finished = try global.client(defaultTimeout: defaultTimeout).runJob(endpoint, body: body) { progress.show($0, line: $1) }
        guard !global.json else { return nil }
        guard let text = finished.response, let response = try? APICoding.decoder().decode(Response.self, from: Data(text.utf8)) else {
            throw ClientError(kind: .failed, message: "job \(finished.job) finished without a response aiosctl can read; see: aiosctl jobs show \(finished.job)")
        }
        return response
    }
}
