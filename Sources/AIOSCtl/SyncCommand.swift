import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials
import Glibc

/// `aiosctl sync [--wait] [--force]`: sync now instead of at the next scheduled time.
struct SyncCommand: ParsableCommand {
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

    func run() throws {
        let body = Array(try APICoding.encoder().encode(SyncRequest(wait: wait, force: force)))
        let client = global.client(defaultTimeout: 900)
        do {
            guard wait else {
                if global.json {
                    Output.printJSON(try client.call(.sync, body: body))
                } else {
                    _ = try client.call(.sync, body: body)
                    Output.print("Sync started; see: aiosctl secret list")
                }
                return
            }
            var final: SyncResponse?
            let decoder = APICoding.decoder()
            try client.stream(.sync, body: body) { line in
                guard let event = try? decoder.decode(SyncEvent.self, from: Data(line)) else { return }
                if global.json {
                    Output.printJSON(line)
                } else {
                    Self.show(event)
                }
                if event.event == .finished { final = event.response }
            }
            guard let final else {
                throw ClientError(kind: .failed, message: "aiosd's progress stream ended before the sync finished; see: aiosctl secret list")
            }
            if !global.json { Output.print(Self.summary(final)) }
            if final.failed { throw ExitCode(ExitStatus.failed) }
        } catch let error as ClientError {
            throw Output.fail(error, json: global.json)
        }
    }

    static func show(_ event: SyncEvent) {
        switch event.event {
        case .queued: Output.print("a sync is running; this one starts when it ends")
        case .started: Output.print("syncing \(event.total ?? 0) secret(s)")
        case .secret:
            guard let result = event.result else { return }
            var line = "  \(result.result + String(repeating: " ", count: max(0, 9 - result.result.count))) \(result.name) (\(DurationText.format(seconds: result.seconds))"
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
        let count = { (result: String) in response.results.filter { $0.result == result }.count }
        var text = "sync \(response.failed ? "finished with failures" : "done"): \(count("applied")) applied, \(count("unchanged")) unchanged"
        for result in ["retained", "deleted", "failed"] where count(result) > 0 { text += ", \(count(result)) \(result)" }
        text += "; \(response.vaultRequests) Key Vault request(s), \(response.kubernetesRequests) API server request(s)"
        for invalid in response.invalid { text += "\ninvalid definition: \(invalid.error)" }
        return text
    }
}
