import AIOSAPI
import AIOSClient
import FoundationEssentials

/// Shell completion of values only aiosd knows: definition names, vaults, job ids. Asked over the socket the
/// command line names (`--socket`, else the default), with a short timeout; any failure completes nothing.
enum Completion {
    @Sendable static func definitionNames(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        matching(prefix, (try? client(arguments).call(API.secrets))?.secrets.map(\.name) ?? [])
    }

    @Sendable static func vaults(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        matching(prefix, Set((try? client(arguments).call(API.secrets))?.secrets.map(\.keyvaultName) ?? []).sorted())
    }

    @Sendable static func jobIDs(_ arguments: [String], _ index: Int, _ prefix: String) -> [String] {
        matching(prefix, (try? client(arguments).call(API.jobs))?.map(\.id).reversed() ?? [])
    }

    static func matching(_ prefix: String, _ candidates: [String]) -> [String] {
        candidates.filter { $0.hasPrefix(prefix) }
    }

    /// The socket given on the command line being completed (`--socket PATH` or `--socket=PATH`), else the default.
    static func socketPath(in arguments: [String]) -> String {
        for (index, argument) in arguments.enumerated() {
            if argument == "--socket", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--socket=") { return String(argument.dropFirst("--socket=".count)) }
        }
        return ProcessInfo.processInfo.environment[Defaults.socketEnvironmentVariable] ?? Defaults.socketPath
    }

    private static func client(_ arguments: [String]) -> ControlClient {
        ControlClient(socketPath: socketPath(in: arguments), timeout: .seconds(2))
    }
}
