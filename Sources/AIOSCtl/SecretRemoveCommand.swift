import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl secret remove NAME [--delete-target]`.
struct SecretRemoveCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop syncing a secret (and with --delete-target, delete its Kubernetes Secret).",
        discussion: """
            Removes /etc/aios/secrets.d/NAME.yaml. The Kubernetes Secret stays as it is unless --delete-target \
            is given; aiosd only ever deletes a Secret it created for this definition (on a multi-node cluster \
            only the sync leader deletes Secrets: run it there). On a K3s server this works for a definition \
            added on any server: its copy in the cluster is marked removed, no node syncs it any more, and the \
            server holding the file removes it at its next heartbeat (10 s) or when its aiosd starts again.
            """)

    @Argument(help: "The definition's name (see: aiosctl secret list).", completion: .custom(Completion.definitionNames))
    var name: String

    @Flag(name: .long, help: "Also delete the Kubernetes Secret aiosd created for it.")
    var deleteTarget = false

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> SecretRemoveResponse {
        try client.call(API.secretRemove, SecretRemoveRequest(deleteTarget: deleteTarget), parameters: ["name": name])
    }

    func render(_ response: SecretRemoveResponse, wide: Bool) -> String {
        var text = "Removed \(name)\(response.file.map { " (\($0))" } ?? "")"
        if response.targetDeleted {
            text += "; Secret \(response.target) deleted"
        } else if !response.target.isEmpty {
            text += deleteTarget ? "; Secret \(response.target) did not exist" : "; Secret \(response.target) kept (no longer synced)"
        }
        if let cluster = response.cluster { text += "\n\(cluster)" }
        return text
    }
}
