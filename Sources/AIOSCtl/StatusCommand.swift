import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl status`: what aiosd is doing.
struct StatusCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's health: secret sync (failing, expiring, last and next cycle), the cluster watch, host jobs, K3s and its issuer, the identity, configuration, socket and services.",
        discussion: """
            With --json every part is a field: sync.secrets, sync.failing, sync.expiringSoon, sync.expired, \
            sync.lastCycle (startedAt, finishedAt, durationSeconds, reason, outcome, results), sync.nextCycleAt, \
            sync.failedCyclesInARow and sync.failedCycles (every cycle counts, whatever started it), \
            clusterWatch (watching, selected, note), hostJobs (running, queued, lastFinished), k3s (present, ready, note, \
            configuredIssuer, runningIssuer, servedIssuer: the issuer in force, restartPending), workloadIdentity (method, \
            clientId, tenantId, serviceAccount, enabled, issuer), cluster (node, nodeRole, syncRole: leader, follower \
            (leader: NAME), not a candidate (...) or single node (...); leader). -o yaml prints the same document as YAML.
            """)

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> StatusResponse { try client.call(API.status) }

    func render(_ status: StatusResponse, wide: Bool) -> String { Self.summary(status) }

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
            if sync.failedCyclesInARow > 0 { counts += "; \(sync.failedCyclesInARow) cycle(s) failed in a row" }
            if sync.failedCycles > 0 { counts += " (\(sync.failedCycles) failed since start)" }
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
        if let k3s = status.k3s { lines += Self.k3s(k3s) }
        if let identity = status.workloadIdentity { lines.append("identity: \(Self.identity(identity))") }
        return lines
    }

    /// K3s: there and ready, and the issuer in force (configured, running and served, when they differ).
    static func k3s(_ k3s: K3sHealth) -> [String] {
        guard k3s.present else { return ["k3s:      not present: \(k3s.note ?? "no admin kubeconfig")"] }
        var lines = ["k3s:      \(k3s.ready == true ? "ready" : "NOT READY")\(k3s.ready == true ? "" : k3s.note.map { ": \($0)" } ?? "")"]
        let issuers = [k3s.configuredIssuer, k3s.runningIssuer, k3s.servedIssuer]
        if let served = k3s.servedIssuer, Set(issuers.compactMap { $0 }).count == 1 {
            lines.append("          issuer \(served) (configured, running and served)")
        } else {
            lines.append("          issuer configured \(k3s.configuredIssuer ?? "?"), running \(k3s.runningIssuer ?? "unknown"), served \(k3s.servedIssuer ?? "unknown")")
            if k3s.ready == true, let note = k3s.note { lines.append("          \(note)") }
        }
        if k3s.restartPending { lines.append("          the configuration is not applied yet: K3s has not been restarted since it changed (aiosctl k3s restart)") }
        return lines
    }

    static func identity(_ identity: IdentityHealth) -> String {
        var parts = [identity.method.rawValue]
        if let client = identity.clientId { parts.append("client \(client)") }
        if let tenant = identity.tenantId { parts.append("tenant \(tenant)") }
        if let account = identity.serviceAccount { parts.append("service account \(account)") }
        var text = parts.joined(separator: ", ")
        if let enabled = identity.enabled {
            text += enabled ? "; enabled, issuer \(identity.issuer ?? "?")"
                : "; NOT ENABLED: K3s does not serve a configured issuer of its own (aiosctl doctor)"
        }
        return text
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
