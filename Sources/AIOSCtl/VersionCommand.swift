import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl version`: the client's version and the daemon's.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Show the versions of aiosctl and aiosd.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client
        do {
            if global.json {
                Output.printJSON(try client.call(.version))
                return
            }
            let daemon = try client.call(.version, as: VersionResponse.self)
            var lines = ["aiosctl \(AgentVersion.current)", "aiosd   \(daemon.version)"]
            for (library, version) in daemon.libraries.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(library) \(version)")
            }
            if daemon.version != AgentVersion.current {
                lines.append("warning: aiosctl and aiosd versions differ; upgrade the package to align them")
            }
            Output.print(lines.joined(separator: "\n"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
