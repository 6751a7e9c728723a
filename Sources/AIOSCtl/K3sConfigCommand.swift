import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s config [--effective]`: the K3s configuration files, and what K3s will run with.
struct K3sConfigCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show K3s' configuration files and the k3s unit's command line; --effective shows the merged result.",
        discussion: """
            Merged with K3s' own rules: config.yaml, then config.yaml.d/*.yaml in lexical order; a later file \
            replaces a key's value (lists too) unless the key ends in '+'; flags on the unit's command line \
            override every file. Credentials (token, agent-token, datastore-endpoint, ...) are never shown.
            """)

    @Flag(name: .long, help: "Show the merged configuration K3s will use, each value with the file it came from.")
    var effective = false

    @OptionGroup var global: GlobalOptions

    func run(client: ControlClient, output: CommandOutput) throws -> K3sConfigResponse { try client.call(API.k3sConfig) }

    func render(_ response: K3sConfigResponse, wide: Bool) -> String {
        effective ? Self.effectiveSummary(response) : Self.filesSummary(response)
    }

    static func filesSummary(_ response: K3sConfigResponse) -> String {
        var lines: [String] = []
        if response.files.isEmpty { lines.append("no K3s configuration files (\(response.configPath), \(response.configPath).d/)") }
        for file in response.files {
            lines.append("# \(file.path)")
            lines += render(file.settings, withSources: false)
        }
        lines.append("# \(response.unit)")
        lines.append(response.unitLoaded ? "ExecStart: \(response.commandLine.joined(separator: " "))" : "not loaded (is K3s installed?)")
        return lines.joined(separator: "\n")
    }

    static func effectiveSummary(_ response: K3sConfigResponse) -> String {
        var lines = ["# effective configuration of K3s (files, then \(response.unit)'s command line)"]
        lines += render(response.effective, withSources: true)
        return lines.joined(separator: "\n")
    }

    static func render(_ settings: [K3sConfigResponse.Setting], withSources: Bool) -> [String] {
        var lines: [String] = []
        for setting in settings {
            let source = { (value: K3sConfigResponse.Value) in withSources ? "    # \(value.from)" : "" }
            if setting.isList {
                lines.append("\(setting.key):")
                lines += setting.values.map { "  - \($0.value)\(source($0))" }
            } else if let value = setting.values.first {
                lines.append("\(setting.key): \(value.value)\(source(value))")
            }
        }
        return lines
    }
}
