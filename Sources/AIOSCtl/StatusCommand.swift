import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl status`: what aiosd is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's health: secret sync (failing, expiring, last and next cycle), the cluster watch, host jobs, configuration, socket and services.",
        discussion: """
            With --json every part is a field: sync.secrets, sync.failing, sync.expiringSoon, sync.expired, \
            sync.lastCycle (startedAt, finishedAt, durationSeconds, reason, outcome, results), sync.nextCycleAt, \
            clusterWatch (watching, selected, note), hostJobs (running, queued, lastFinished), cluster (node, nodeRole, \
            syncRole: leader, follower (leader: NAME), not a candidate (...) or single node (...); leader).
            """)

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.status))
                return
            }
            Output.print(Self.summary(try client.call(.status, as: StatusResponse.self)))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }

    static func summary(_ status: StatusResponse) -> String {
        var lines = ["aiosd \(status.version), pid \(status.pid), up \(DurationText.format(seconds: status.uptimeSeconds))"]
        lines.append("config:   \(status.configPath) (loaded \(Output.timestamp(status.configLoadedAt)))")
        if let reload = status.lastReload, !reload.accepted {
            lines.append("          last reload refused at \(Output.timestamp(reload.at)): \(reload.error ?? "invalid")")
        }
        lines.append("socket:   \(status.socketPath)\(status.socketActivated ? " (socket-activated)" : "")")
        var systemd = status.underSystemd ? "yes" : "no"
        if let watchdog = status.watchdogSeconds { systemd += ", watchdog \(DurationText.format(seconds: watchdog))" }
        lines.append("systemd:  \(systemd)")
        if let cluster = status.cluster {
            lines.append("node:     \(cluster.node) (K3s \(cluster.nodeRole == "none" ? "not installed" : cluster.nodeRole)); sync role: \(cluster.syncRole)")
        }
        lines += health(status)
        lines.append("services:")
        let width = status.services.map(\.name.count).max() ?? 0
        for service in status.services {
            let name = service.name.padded(to: width)
            let state = service.state.rawValue.padded(to: 8)
            lines.append("  \(name)  \(state)  \(service.detail ?? "")".trimmingTrailingSpaces())
        }
        return lines.joined(separator: "\n")
    }

    /// Secret sync, the cluster watch and host jobs, one line or two each.
    static func health(_ status: StatusResponse, now: Date = Date()) -> [String] {
        var lines: [String] = []
        if let sync = status.sync {
            var counts = "\(sync.secrets) secret(s), \(sync.failing) failing"
            if sync.expiringSoon > 0 { counts += ", \(sync.expiringSoon) expiring within 30 days" }
            if sync.expired > 0 { counts += ", \(sync.expired) EXPIRED" }
            lines.append("sync:     \(counts)\(sync.running ? "; a cycle is running" : "")")
            if let last = sync.lastCycle {
                let results = last.results.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                lines.append("          last cycle \(DurationText.relative(last.finishedAt, now: now)) (\(last.reason)): \(last.outcome) in "
                    + "\(DurationText.format(seconds: last.durationSeconds))\(results.isEmpty ? "" : ", \(results)")")
            } else {
                lines.append("          no cycle yet")
            }
            if let next = sync.nextCycleAt { lines.append("          next cycle \(DurationText.relative(next, now: now))") }
        }
        if let watch = status.clusterWatch {
            lines.append("cluster:  \(watch.watching ? "watching SecretSyncs, \(watch.selected) selected" : watch.note ?? "not watched")")
        }
        if let jobs = status.hostJobs {
            var text = "\(jobs.running) running, \(jobs.queued) queued"
            if let last = jobs.lastFinished {
                text += "; last: \(last.kind) \(last.id) \(last.state.rawValue)\(last.finishedAt.map { " \(DurationText.relative($0, now: now))" } ?? "")"
            }
            lines.append("jobs:     \(text)")
        }
        return lines
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
