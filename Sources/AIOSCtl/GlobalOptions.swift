import AIOSAPI
import AIOSClient
import ArgumentParser
import FoundationEssentials

/// Options every aiosctl command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The aiosd control socket (env: \(Defaults.socketEnvironmentVariable); default: \(Defaults.socketPath)).", valueName: "path"))
    public var socket: String?

    @Flag(name: .long, help: "Print the API's JSON instead of a summary.")
    public var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Seconds to wait for aiosd (default: 10; 330 for commands that restart K3s).", valueName: "seconds"))
    public var timeout: Double?

    public init() {}

    public mutating func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 3600) { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    public var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment[Defaults.socketEnvironmentVariable] ?? Defaults.socketPath
    }

    public var client: ControlClient { client(defaultTimeout: 10) }

    /// Long host operations (a K3s restart waits for the API server) default to a longer wait.
    public func client(defaultTimeout: Double) -> ControlClient {
        ControlClient(socketPath: socketPath, timeout: .milliseconds(Int64((timeout ?? defaultTimeout) * 1000)))
    }
}
