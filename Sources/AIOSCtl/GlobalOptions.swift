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

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for aiosd.", valueName: "seconds"))
    public var timeout: Double = 10

    public init() {}

    public mutating func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    public var socketPath: String {
        socket ?? ProcessInfo.processInfo.environment[Defaults.socketEnvironmentVariable] ?? Defaults.socketPath
    }

    public var client: ControlClient {
        ControlClient(socketPath: socketPath, timeout: .milliseconds(Int64(timeout * 1000)))
    }
}
