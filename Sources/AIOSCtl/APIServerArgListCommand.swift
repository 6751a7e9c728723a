import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s apiserver-arg list`.
struct APIServerArgListCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show the agent's kube-apiserver arguments and every kube-apiserver-arg in effect, with its file.")

    @OptionGroup var global: GlobalOptions

    static var timeout: DefaultTimeout { .k3sRead }

    func run(client: ControlClient, output: CommandOutput) throws -> APIServerArgsResponse { try client.call(API.apiServerArgs) }

    func render(_ response: APIServerArgsResponse, wide: Bool) -> String {
        var lines = ["# \(response.dropIn) (aiosd's)"]
        lines += response.agent.isEmpty ? ["(none)"] : response.agent.map { "  - \($0)" }
        lines.append("# in effect (kube-apiserver-arg)")
        lines += response.effective.isEmpty ? ["(none)"] : response.effective.map { "  - \($0.value)    # \($0.from)" }
        return lines.joined(separator: "\n")
    }
}
