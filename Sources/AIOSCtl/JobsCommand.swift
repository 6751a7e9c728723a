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
        var rows = [["ID", "KIND", "STATE", "QUEUED", "DURATION"] + (wide ? ["STARTED", "FINISHED", "STEPS", "ERROR"] : [])]
        for job in jobs {
            let duration = job.startedAt.flatMap { start in job.finishedAt.map { DurationText.format(seconds: $0.timeIntervalSince(start)) } } ?? "-"
            var row = [job.id, job.kind, job.state.rawValue, Output.timestamp(job.queuedAt), duration]
            if wide {
                row += [job.startedAt.map(Output.timestamp) ?? "-", job.finishedAt.map(Output.timestamp) ?? "-",
                        "\(job.steps.filter(\.ok).count)/\(job.steps.count) ok", job.error?.code ?? "-"]
            }
            rows.append(row)
        }
        return Output.table(rows)
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
