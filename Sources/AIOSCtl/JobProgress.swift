import AIOSAPI
import AIOSClient
import FoundationEssentials
import Glibc

/// Renders a job's progress: on a terminal a live line per step, otherwise one plain line per finished step;
/// with `--json`, the events themselves (NDJSON).
struct JobProgress {
    let json: Bool
    /// `-o yaml`: no progress, only the final document.
    var quiet = false
    let live = isatty(STDOUT_FILENO) == 1

    func show(_ event: JobEvent, line: [UInt8]) {
        if json {
            Output.printJSON(line)
            return
        }
        if quiet { return }
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

    /// Runs `method` as a job, showing its progress (or, for `-o json`, printing its events), and returns its response.
    static func run<Request, Response>(_ method: APIMethod<Request, Response>, _ request: Request, client: ControlClient,
                                       output: CommandOutput) throws(ClientError) -> Response {
        let json = output.format == .json
        let progress = JobProgress(json: json, quiet: output.format == .yaml)
        let response = try client.runJob(method, request) { progress.show($0, line: $1) }
        output.streamed = json
        return response
    }
}
