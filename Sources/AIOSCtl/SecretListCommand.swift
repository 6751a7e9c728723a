import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl secret list`: every synced secret with its state, one line each.
struct SecretListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List synced secrets: source, vault, target Secret, state, last success and expiry.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        do {
            if global.json {
                Output.printJSON(try global.client.call(.secrets))
                return
            }
            let list = try global.client.call(.secrets, as: SecretListResponse.self)
            if list.secrets.isEmpty && list.invalid.isEmpty {
                Output.print("no synced secrets; add one with: aiosctl secret add NAME --vault VAULT --object OBJECT")
                if let note = list.cluster { Output.print("note: \(note)") }
                return
            }
            var rows = [["NAME", "SOURCE", "VAULT", "TARGET", "STATE", "LAST SUCCESS", "EXPIRES"]]
            for entry in list.secrets {
                rows.append([entry.name, entry.source, entry.keyvaultName, entry.target, entry.status.state + (entry.status.stale && entry.status.state != "pending" ? " (stale)" : ""),
                             entry.status.lastSuccess.map(Output.timestamp) ?? "never", Output.expiry(entry.status.expires)])
            }
            for invalid in list.invalid { rows.append([invalid.name, invalid.source ?? "file", "-", "-", "invalid", "-", "-"]) }
            Output.print(Output.table(rows))
            for entry in list.secrets {
                if let issue = entry.status.issue ?? entry.status.objects.compactMap(\.issue).first {
                    Output.print("\(entry.name): \(issue.code): \(issue.message)\(issue.hint.map { "\n  hint: \($0)" } ?? "")")
                }
            }
            for invalid in list.invalid { Output.print("\(invalid.name): \(invalid.error)") }
            if let note = list.cluster { Output.print("note: \(note)") }
            if let syncedBy = list.syncedBy { Output.print("note: this node does not sync, \(syncedBy); the states above are the cluster's Secrets") }
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
