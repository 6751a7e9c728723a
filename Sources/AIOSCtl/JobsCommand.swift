import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl jobs [show ID]`: recent host jobs; they survive a restart of aiosd.
struct JobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List recent host jobs (K3s restarts and changes, daemon-reloads) with their outcome.",
        subcommands: [JobsListCommand.self, JobShowCommand.self],
        defaultSubcommand: JobsListCommand.self)
}

struct JobsListCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List recent host jobs, oldest first.",
        discussion: "-o wide adds when each started and finished, its steps, and its error.")

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> [JobRecord] { try client.call(API.jobs) }

    func render(_ jobs: [JobRecord], wide: Bool) -> String {
        guard !jobs.isEmpty else { return "no host jobs yet" }
        if !wide {
            // Fixed columns (as before -o wide existed): scripts and eyes find the same places in every listing.
            var lines = [["ID".padded(8), "KIND".padded(26), "STATE".padded(12), "QUEUED".padded(21), "DURATION"].joined(separator: "  ")]
            for job in jobs {
                lines.append([job.id.padded(8), job.kind.padded(26), job.state.rawValue.padded(12), Output.timestamp(job.queuedAt).padded(21),
                              Self.duration(job)].joined(separator: "  "))
            }
            return lines.joined(separator: "\n")
        }
        var rows = [["ID", "KIND", "STATE", "QUEUED", "DURATION", "STARTED", "FINISHED", "STEPS", "ERROR"]]
        for job in jobs {
            rows.append([job.id, job.kind, job.state.rawValue, Output.timestamp(job.queuedAt), Self.duration(job),
                         job.startedAt.map(Output.timestamp) ?? "-", job.finishedAt.map(Output.timestamp) ?? "-",
                         "\(job.steps.filter(\.ok).count)/\(job.steps.count) ok", job.error?.code ?? "-"])
        }
        return Output.table(rows)
    }

    static func duration(_ job: JobRecord) -> String {
        job.startedAt.flatMap { start in job.finishedAt.map { DurationText.format(seconds: $0.timeIntervalSince(start)) } } ?? "-"
    }
}

struct JobShowCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one job: its steps and timings, its outcome and, on failure, K3s' journal lines.")

    @Argument(help: "The job's id (from aiosctl jobs).", completion: .custom(Completion.jobIDs))
    var id: String

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> JobRecord { try client.call(API.job, parameters: ["id": id]) }

    func render(_ job: JobRecord, wide: Bool) -> String {
        var lines = ["job \(job.id): \(job.kind), \(job.state.rawValue)", "queued \(Output.timestamp(job.queuedAt))"]
        for step in job.steps {
            lines.append("  \(step.ok ? "ok  " : "FAIL") \(step.name) (\(DurationText.format(seconds: step.seconds)))\(step.detail.map { ": \($0)" } ?? "")")
        }
        if let error = job.error { lines.append("error: \(error.message)") }
        if let journal = job.k3sJournal, !journal.isEmpty {
            lines.append("K3s' last journal lines:")
            lines += journal.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
