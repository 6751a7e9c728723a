import AIOSAPI
import AIOSCore
import AIOSHTTP
import AIOSSystemd
import ArgumentParser
import FoundationEssentials
import Logging

/// `aiosd`: the node agent. Everything but argument parsing lives in `Daemon` and its services.
public struct DaemonCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aiosd",
        abstract: "Node agent for K3s hosts running Azure IoT Operations.",
        discussion: """
            Serves the control API on a Unix socket (used by aiosctl). Under systemd it is started by \
            aiosd.service or by socket activation through aiosd.socket. Exit status: 0 after a clean \
            shutdown, 1 on a runtime failure, 64 on a usage error, 78 when the configuration is invalid.

            The configuration is the file, then FILE.d/*.yaml in byte order of the names; each drop-in sets only \
            the keys it names. --check-config [FILE] validates them all and exits (0 valid, 78 invalid) without \
            starting or touching a running daemon.
            """,
        version: AgentVersion.current)

    @Option(name: .long, help: ArgumentHelp("Configuration file; a missing file means defaults.", valueName: "path"))
    var config: String = Defaults.configPath

    @Option(name: .long, help: ArgumentHelp(
        "Control socket to bind when not socket-activated (default: control.socket from the configuration, \(Defaults.socketPath)).",
        valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Validate the configuration (and its drop-ins), print the outcome and exit: 0 valid, 78 invalid.")
    var checkConfig = false

    @Argument(help: ArgumentHelp("With --check-config: the file to validate instead of --config.", valueName: "file"))
    var checkConfigFile: String?

    public init() {}

    public func validate() throws {
        if checkConfigFile != nil && !checkConfig {
            throw ValidationError("a FILE argument is only accepted with --check-config")
        }
    }

    public func run() async throws {
        // First, before any secret or key is read: nothing of this process may end up in a core file.
        let hardened = ProcessHardening.disableCoreDumps()
        if checkConfig { try ConfigurationCheck.run(path: checkConfigFile ?? config) }
        let environment = ProcessInfo.processInfo.environment
        let underSystemd = LogDestination.runsUnderSystemd(environment: environment)
        LoggingSystem.bootstrap { label in
            let handler: any LogHandler = underSystemd
                ? JournalLogHandler(identifier: "aiosd")
                : StreamLogHandler.standardError(label: label)
            return ReloadableLevelLogHandler(wrapped: handler)
        }
        let logger = Logger(label: "aiosd")
        if !hardened { logger.warning("Core dumps could not be disabled in-process; relying on the unit's LimitCORE=0") }

        let configuration: AgentConfiguration
        do {
            configuration = try ConfigurationLoader().load(path: config)
        } catch {
            // On a terminal the bare error reads best; under systemd the journal entry carries it with fields.
            if underSystemd {
                logger.critical("Configuration invalid; aiosd cannot start", metadata: [
                    "config.path": "\(config)", "config.error": "\(error.description)",
                ])
            } else {
                StandardError.write("aiosd: \(error.description)\n")
            }
            ConfigErrorResponder.answerWaitingClients(error)
            throw ExitCode(78)  // EX_CONFIG
        }
        LogLevelControl.shared.current = Logger.Level(configuration.logLevel)
        OutboundProxy.current = configuration.network.proxy

        let state = DaemonState(
            configPath: config, socketPath: socket ?? configuration.control.socket, configuration: configuration,
            underSystemd: underSystemd, watchdogInterval: WatchdogSettings.fromEnvironment()?.interval)
        do {
            try await Daemon(state: state, logger: logger).run()
        } catch {
            if underSystemd {
                logger.critical("aiosd failed", metadata: ["error": "\(error)"])
            } else {
                StandardError.write("aiosd: \(error)\n")
            }
            throw ExitCode.failure
        }
        logger.notice("aiosd stopped")
    }
}
