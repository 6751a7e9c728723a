import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// `aiosctl secret show NAME`: where a definition comes from, what it maps, and each object's sync status.
struct SecretShowCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one synced secret: its definition, and per object the last attempt and success, vault version, content hash, expiry and error.",
        discussion: """
            On a follower of a multi-node cluster (a node that does not hold the sync Lease) the state is what the \
            cluster shows, the Secret the leader wrote (synced with its content hash, or pending), and the leader \
            is named ("synced by"); the leader's attempt times and errors are shown on the leader.
            """)

    @Argument(help: "The definition's name (see: aiosctl secret list).", completion: .custom(Completion.definitionNames))
    var name: String

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> SecretShowResponse {
        try client.call(API.secret, parameters: ["name": name])
    }

    func render(_ show: SecretShowResponse, wide: Bool) -> String {
        let definition = show.definition, status = show.status
        let secret = definition.secretObject
        var lines = [
            "secret \(definition.name)",
            "  source:   \(definition.source ?? "file") \(definition.origin ?? "")",
            "  vault:    \(definition.keyvaultName)",
            "  target:   Secret \(secret.namespace ?? "?")/\(secret.name ?? definition.name) (\(secret.type ?? "Opaque"))",
        ]
        if let identity = show.identity {
            lines.append("  identity: \(identity)")
        } else if let account = definition.serviceAccountName {
            lines.append("  identity: service account \(account)")
        }
        for mapping in secret.data ?? [] { lines.append("  data:     \(mapping.sourcePath) -> \(mapping.targetKey)") }
        if let syncedBy = show.syncedBy {
            lines.append("  synced by: this node does not sync, \(syncedBy); the state below is the cluster's Secret")
        }
        lines.append("  state:    \(status.state.rawValue)\(status.stale && status.state != .pending ? " (stale\(status.staleSeconds.map { ", last success \(DurationText.format(seconds: $0)) ago" } ?? ""))" : "")")
        lines.append("  last attempt: \(status.lastAttempt.map(Output.timestamp) ?? "never")")
        lines.append("  last success: \(status.lastSuccess.map(Output.timestamp) ?? "never")")
        if let hash = status.contentHash { lines.append("  content hash: \(hash)") }
        if let expires = status.expires {
            lines.append("  expires:  \(Output.timestamp(expires)) (\(Output.expiry(expires)))\(status.expired ? "; Key Vault still serves it, renew it" : "")")
        }
        if let issue = status.issue { lines += Self.describe(issue, indent: "  ") }
        for (index, object) in status.objects.enumerated() {
            let spec = index < definition.objects.count ? definition.objects[index] : nil
            var attributes = [spec?.objectType ?? "secret"]
            if let encoding = spec?.objectEncoding, encoding != "utf-8" { attributes.append("encoding \(encoding)") }
            if let format = spec?.objectFormat, format != "pem" { attributes.append("format \(format)") }
            if let pinned = spec?.objectVersion { attributes.append("pinned \(pinned)") }
            if let history = spec?.objectVersionHistory { attributes.append("\(history) versions") }
            lines.append("  object \(object.objectName) as \(object.alias) (\(attributes.joined(separator: ", ")))")
            lines.append("    vault version: \(object.vaultVersion ?? "-")\(object.vaultUpdated.map { ", updated \(Output.timestamp($0))" } ?? "")")
            lines.append("    last attempt:  \(object.lastAttempt.map(Output.timestamp) ?? "never")")
            lines.append("    last success:  \(object.lastSuccess.map(Output.timestamp) ?? "never")")
            if let hash = object.contentHash { lines.append("    content hash:  \(hash)") }
            if let expires = object.expires { lines.append("    expires:       \(Output.timestamp(expires)) (\(Output.expiry(expires)))") }
            if let notBefore = object.notBefore, notBefore > Date() { lines.append("    not before:    \(Output.timestamp(notBefore)) (not valid yet)") }
            if let issue = object.issue { lines += Self.describe(issue, indent: "    ") }
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ issue: SyncIssueInfo, indent: String) -> [String] {
        var lines = ["\(indent)error: \(issue.code): \(issue.message)"]
        if let hint = issue.hint { lines.append("\(indent)hint:  \(hint)") }
        return lines
    }
}
