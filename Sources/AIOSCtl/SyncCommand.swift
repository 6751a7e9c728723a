import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials
import Glibc

/// `aiosctl sync [--wait] [--force]`: sync now instead of at the next scheduled time.
struct SyncCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync every secret now.",
        discussion: """
            Without --wait the sync starts in aiosd and aiosctl returns at once. With --wait aiosctl shows each \
            secret's outcome as it is known (applied, unchanged, retained, deleted, failed) and exits 1 if any \
            failed or a definition file is invalid. A sync fetches only values whose version changed in the vault \
            and writes only Secrets whose content changed or that someone else edited; --force fetches and \
            compares everything and drops cached access tokens (after fixing an identity). On a multi-node \
            cluster only the sync leader syncs: elsewhere the command says which node leads and changes nothing.
            """)

    @Flag(name: .long, help: "Wait for the sync to finish and show its progress; exit 1 if anything failed.")
    var wait = false

    @Flag(name: .long, help: "Fetch every value, compare every Secret and get new access tokens.")
    var force = false

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .long }

    func run(client: ControlClient, output: CommandOutput) throws -> SyncResponse {
        let request = SyncRequest(wait: wait, force: force)
        guard wait else { return try client.call(API.sync, request) }
        var final: SyncResponse?
        let json = output.format == .json
        try client.stream(API.sync, request, events: SyncEvent.self) { event, line in
            if json {
                Output.printJSON(line)
            } else if output.format != .yaml {
                Self.show(event)
            }
            if event.event == .finished { final = event.response }
        }
        guard let final else {
            throw ClientError(kind: .failed, message: "aiosd's progress stream ended before the sync finished; see: aiosctl secret list")
        }
        output.streamed = json
        return final
    }

    func render(_ response: SyncResponse, wide: Bool) -> String {
        response.finished ? Self.summary(response) : "Sync started; see: aiosctl secret list"
    }

    func failed(_ response: SyncResponse) -> Bool { response.finished && response.failed }

    static func show(_ event: SyncEvent) {
        switch event.event {
        case .queued: Output.print("a sync is running; this one starts when it ends")
        case .started: Output.print("syncing \(event.total ?? 0) secret(s)")
        case .secret:
            guard let result = event.result else { return }
            let kind = result.result.rawValue
            var line = "  \(kind + String(repeating: " ", count: max(0, 9 - kind.count))) \(result.name) (\(DurationText.format(seconds: result.seconds))"
            line += result.fetched > 0 ? ", \(result.fetched) fetched)" : ")"
            if let issue = result.issue {
                line += ": \(issue.code): \(issue.message)"
                if let hint = issue.hint { line += "\n            hint: \(hint)" }
            }
            Output.print(line)
        case .finished: break
        }
    }

    static func summary(_ response: SyncResponse) -> String {
        if let standDown = response.standDown {
            return "not synced here: this node is \(standDown); the leader syncs (aiosctl cluster status)"
        }
        let count = { (result: SyncResultKind) in response.results.filter { $0.result == result }.count }
        var text = "sync \(response.failed ? "finished with failures" : "done"): \(count(.applied)) applied, \(count(.unchanged)) unchanged"
        for result in [SyncResultKind.retained, .deleted, .failed] where count(result) > 0 { text += ", \(count(result)) \(result.rawValue)" }
        text += "; \(response.vaultRequests) Key Vault request(s), \(response.kubernetesRequests) API server request(s)"
        for invalid in response.invalid { text += "\ninvalid definition: \(invalid.error)" }
        return text
    }
}
