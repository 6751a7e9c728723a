import AIOSAPI
import ArgumentParser
import FoundationEssentials
import Glibc

/// `aiosctl`: the operator's command line for aiosd. The root is the index of every command.
public struct AIOSCtlCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aiosctl",
        abstract: "Control and inspect aiosd, the node agent for K3s hosts running Azure IoT Operations.",
        discussion: """
            Who may do what (aiosd(8), PRIVILEGE LEVELS): members of the socket group read (status, lists, show); \
            operators, members of control.adminGroup (default '\(Defaults.adminGroup)'), sync, manage secret \
            definitions within the policy in aiosd.yaml, enable or disable workload identity, restart K3s and set \
            the operator allow-list of kube-apiserver flags; root (or control.k3sAdminGroup) may do everything.

            aiosctl --version prints aiosctl's version; aiosctl version also asks aiosd for its own.

            Exit status: 0 ok, 1 the operation failed, 2 usage error, 3 aiosd not reachable, \
            4 permission denied (not in the socket group, or your level may not do it: the message names the \
            rule and who may).
            """,
        subcommands: [StatusCommand.self, VersionCommand.self, ConfigCommand.self, K3sCommand.self, SystemdCommand.self,
                      WorkloadIdentityCommand.self, JobsCommand.self, SecretCommand.self, SyncCommand.self, DoctorCommand.self,
                      ClusterCommand.self])

    // Declared here too so the options may also come before the command name: `aiosctl --json status`.
    @OptionGroup var global: GlobalOptions

    public init() {}

    /// `--json` or `-o json|yaml` on a command line that did not parse: its usage error is printed as that document too.
    static func requestedFormat(_ arguments: [String]) -> OutputFormat? {
        var format: OutputFormat?
        for (index, argument) in arguments.enumerated() {
            if argument == "--json" { return .json }
            if (argument == "-o" || argument == "--output"), index + 1 < arguments.count { format = OutputFormat(rawValue: arguments[index + 1]) }
            if argument.hasPrefix("--output=") { format = OutputFormat(rawValue: String(argument.dropFirst("--output=".count))) }
            if argument.hasPrefix("-o"), argument.count > 2, !argument.hasPrefix("--") { format = OutputFormat(rawValue: String(argument.dropFirst(2))) }
        }
        return format
    }

    /// Like `main()`, but with aiosctl's exit statuses: usage errors exit 2, not argument-parser's 64.
    public static func runAsMain(arguments: [String]? = nil) -> Never {
        // `aiosctl --version` by hand, not argument-parser's `version:`: that would list --version in every
        // subcommand's help, twice in `secret add`'s, whose --version pins an object version.
        if (arguments ?? Array(CommandLine.arguments.dropFirst())) == ["--version"] {
            Output.print(AgentVersion.current)
            Glibc.exit(ExitStatus.ok)
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(ExitStatus.ok)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                Output.print(message)
                Glibc.exit(ExitStatus.ok)
            }
            let status = code == .validationFailure ? ExitStatus.usage : code.rawValue
            if status == ExitStatus.usage, let format = requestedFormat(arguments ?? Array(CommandLine.arguments.dropFirst())), format.structured {
                var usage = APIError(code: .badRequest, message: message)
                usage.code = "usage"
                if let document = StructuredOutput.document(APIErrorResponse(error: usage), format: format) { Output.print(document) }
            }
            if !message.isEmpty { Output.printError(message + "\n") }
            Glibc.exit(status)
        }
    }
}
