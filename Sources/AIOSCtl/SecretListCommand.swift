import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl secret list`: every synced secret with its state, one line each.
struct SecretListCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List synced secrets: source, vault, target Secret, state, last success and expiry.",
        discussion: """
            -o wide adds the Secret's type, the vault objects, the last attempt and the content hash. --all also lists \
            the cluster's SecretSyncs that cluster.secretSyncs leaves out, with why and the command that selects each.
            """)

    @Flag(name: .long, help: "Also list SecretSyncs in the cluster that aiosd does not sync, and why.")
    var all = false

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> SecretListResponse { try client.call(API.secrets) }

    func render(_ list: SecretListResponse, wide: Bool) -> String {
        var lines: [String] = []
        let unselected = all ? list.unselected ?? [] : []
        if list.secrets.isEmpty && list.invalid.isEmpty && unselected.isEmpty {
            lines.append("no synced secrets; add one with: aiosctl secret add NAME --vault VAULT --object OBJECT")
            if let note = list.cluster { lines.append("note: \(note)") }
            if !all, let count = list.unselected?.count, count > 0 { lines.append("\(count) SecretSync(s) in the cluster are not synced; see: aiosctl secret list --all") }
            return lines.joined(separator: "\n")
        }
        var rows = [["NAME", "SOURCE", "VAULT", "TARGET", "STATE", "LAST SUCCESS", "EXPIRES"] + (wide ? ["TYPE", "OBJECTS", "LAST ATTEMPT", "CONTENT HASH"] : [])]
        for entry in list.secrets {
            let status = entry.status
            var row = [entry.name, entry.source, entry.keyvaultName, entry.target,
                       status.state.rawValue + (status.stale && status.state != .pending ? " (stale)" : ""),
                       status.lastSuccess.map(Output.timestamp) ?? "never", Output.expiry(status.expires)]
            if wide {
                row += [entry.type, entry.objects.joined(separator: ","), status.lastAttempt.map(Output.timestamp) ?? "never",
                        status.contentHash.map { String($0.prefix(16)) } ?? "-"]
            }
            rows.append(row)
        }
        let blank = wide ? ["-", "-", "-", "-"] : []
        for invalid in list.invalid { rows.append([invalid.name, invalid.source ?? "file", "-", "-", "invalid", "-", "-"] + blank) }
        for sync in unselected { rows.append([sync.name, "cluster", "-", "-", "not synced", "-", "-"] + blank) }
        lines.append(Output.table(rows))
        for entry in list.secrets {
            if let issue = entry.status.issue ?? entry.status.objects.compactMap(\.issue).first {
                lines.append("\(entry.name): \(issue.code): \(issue.message)\(issue.hint.map { "\n  hint: \($0)" } ?? "")")
            }
        }
        for invalid in list.invalid { lines.append("\(invalid.name): \(invalid.error)") }
        for sync in unselected { lines.append("\(sync.name): not synced: \(sync.reason)\n  fix: \(sync.fix)") }
        if let note = list.cluster { lines.append("note: \(note)") }
        if let syncedBy = list.syncedBy { lines.append("note: this node does not sync, \(syncedBy); the states above are the cluster's Secrets") }
        if !all, let count = list.unselected?.count, count > 0 { lines.append("\(count) SecretSync(s) in the cluster are not synced; see: aiosctl secret list --all") }
        return lines.joined(separator: "\n")
    }
}
