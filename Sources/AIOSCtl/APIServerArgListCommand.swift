import AIOSAPI
import AIOSClient
import ArgumentParser

/// `aiosctl k3s apiserver-arg list`.
struct APIServerArgListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show the agent's kube-apiserver arguments and every kube-apiserver-arg in effect, with its file.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let client = global.client(defaultTimeout: 30)
        do {
            if global.json {
                Output.printJSON(try client.call(.apiServerArgs))
                return
            }
            let response = try client.call(.apiServerArgs, as: APIServerArgsResponse.self)
            var lines = ["# \(response.dropIn) (aiosd's)"]
            lines += response.agent.isEmpty ? ["(none)"] : response.agent.map { "  - \($0)" }
            lines.append("# in effect (kube-apiserver-arg)")
            lines += response.effective.isEmpty ? ["(none)"] : response.effective.map { "  - \($0.value)    # \($0.from)" }
            Output.print(lines.joined(separator: "\n"))
        } catch {
            throw Output.fail(error, json: global.json)
        }
    }
}
