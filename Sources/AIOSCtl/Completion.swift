import AIOSAPI
import AIOSClient
import FoundationEssentials

/// Shell completion of values only aiosd knows: definition names, vaults, job ids. Asked over the socket the
/// command line names (`--socket`, else the default), within the line's `--timeout` or a short 2 s (a Tab press
/// must not hang); any failure completes nothing.
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
        option("--socket", in: arguments) ?? ProcessInfo.processInfo.environment[Defaults.socketEnvironmentVariable] ?? Defaults.socketPath
    }

    /// The `--timeout SECONDS` of the line being completed when it is valid (as `GlobalOptions` checks it), else 2 s.
    static func timeout(in arguments: [String]) -> Duration {
        guard let text = option("--timeout", in: arguments), let seconds = Double(text), seconds > 0, seconds <= 3600 else {
            return .seconds(2)
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// `NAME VALUE` or `NAME=VALUE` on the command line.
    private static func option(_ name: String, in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == name, index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
        }
        return nil
    }

    private static func client(_ arguments: [String]) -> ControlClient {
        ControlClient(socketPath: socketPath(in: arguments), timeout: timeout(in: arguments))
    }
}
