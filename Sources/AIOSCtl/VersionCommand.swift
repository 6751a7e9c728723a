import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl version`: the client's version and the daemon's.
struct VersionCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show the versions of aiosctl and aiosd.")

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> VersionResponse { try client.call(API.version) }

    func render(_ daemon: VersionResponse, wide: Bool) -> String {
        var lines = ["aiosctl \(AgentVersion.current)", "aiosd   \(daemon.version)"]
        for (library, version) in daemon.libraries.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(library) \(version)")
        }
        if daemon.version != AgentVersion.current {
            lines.append("warning: aiosctl and aiosd versions differ; upgrade the package to align them")
        }
        return lines.joined(separator: "\n")
    }
}
