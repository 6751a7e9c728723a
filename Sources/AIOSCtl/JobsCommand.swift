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

struct JobsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recent host jobs, oldest first.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.jobs))
                return
            }
            let jobs = try client.call(.jobs, as: [JobRecord].self)
            guard !jobs.isEmpty else {
                Output.print("no host jobs yet")
                return
            }
            var lines = [["ID".padded(8), "KIND".padded(26), "STATE".padded(12), "QUEUED".padded(21), "DURATION"].joined(separator: "  ")]
            for job in jobs {
                let duration = job.startedAt.flatMap { start in job.finishedAt.map { DurationText.format(seconds: $0.timeIntervalSince(start)) } } ?? "-"
                lines.append([job.id.padded(8), job.kind.padded(26), job.state.rawValue.padded(12),
                              Output.timestamp(job.queuedAt).padded(21), duration].joined(separator: "  "))
            }
            Output.print(lines.joined(separator: "\n"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}

struct JobShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one job: its steps and timings, its outcome and, on failure, K3s' journal lines.")

    @Argument(help: "The job's id (from aiosctl jobs).")
    var id: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.job, parameters: ["id": id]))
                return
            }
            let job = try client.call(.job, parameters: ["id": id], as: JobRecord.self)
            var lines = ["job \(job.id): \(job.kind), \(job.state.rawValue)", "queued \(Output.timestamp(job.queuedAt))"]
            for step in job.steps {
                lines.append("  \(step.ok ? "ok  " : "FAIL") \(step.name) (\(DurationText.format(seconds: step.seconds)))\(step.detail.map { ": \($0)" } ?? "")")
            }
            if let error = job.error { lines.append("error: \(error.message)") }
            if let journal = job.k3sJournal, !journal.isEmpty {
                lines.append("K3s' last journal lines:")
                lines += journal.map { "  \($0)" }
            }
            Output.print(lines.joined(separator: "\n"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
