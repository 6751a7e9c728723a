import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// Options every aiosctl command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The aiosd control socket (env: \(Defaults.socketEnvironmentVariable); default: \(Defaults.socketPath)).", valueName: "path"),
        completion: .file())
    public var socket: String?

    @Flag(name: .long, help: "Print the API's JSON instead of a summary (as -o json).")
    public var json = false

    @Option(name: [.customShort("o", allowingJoined: true), .customLong("output")], help: ArgumentHelp(
        "Output format: text (default), json, yaml, or wide (more columns). Errors follow it too.", valueName: "format"))
    var output: OutputFormat?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds to wait for aiosd (default: 10; 30 for reads that ask K3s; 120 for daemon-reload; 330 for k3s restart; "
            + "900 for K3s changes and sync --wait).", valueName: "seconds"))
    public var timeout: Double?

    public init() {}

    public mutating func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 3600) { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        if json, let output, output != .json { throw ValidationError("--json and -o \(output.rawValue) disagree; give one") }
    }

    var format: OutputFormat { json ? .json : output ?? .text }

    public var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment[Defaults.socketEnvironmentVariable] ?? Defaults.socketPath
    }

    public var client: ControlClient { client(.standard) }

    func client(_ defaultTimeout: DefaultTimeout) -> ControlClient {
        ControlClient(socketPath: socketPath, timeout: .milliseconds(Int64((timeout ?? defaultTimeout.seconds) * 1000)))
    }
}
