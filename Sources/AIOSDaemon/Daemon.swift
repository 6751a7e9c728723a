import AIOSAPI
import AIOSCore
import AIOSSystemd
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Builds aiosd's services and runs them in one ServiceGroup until SIGTERM/SIGINT.
public struct Daemon {
    let state: DaemonState
    let notifier: Notifier
    let logger: Logger
    /// Where recent host jobs are kept across restarts (tests use a temporary directory).
    let jobsPath: String
    /// Where sync state and the content-hash key live (tests use a temporary directory).
    let syncStatePath: String
    let contentHashKeyPath: String

    public init(state: DaemonState, notifier: Notifier = Notifier(), logger: Logger, jobsPath: String = JobStore.defaultPath,
                syncStatePath: String = SyncStateStore.defaultPath, contentHashKeyPath: String = ContentHasher.defaultKeyPath) {
        self.state = state
        self.notifier = notifier
        self.logger = logger
        self.jobsPath = jobsPath
        self.syncStatePath = syncStatePath
        self.contentHashKeyPath = contentHashKeyPath
    }

    public func run() async throws {
        let activatedSocket = try ListenFDs.takeUnixListener()
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = self.state
        let engine = SecretSyncEngine(state: SyncStateStore(path: syncStatePath), hasherKeyPath: contentHashKeyPath, connections: SyncConnections(),
                                      logger: logger)
        let sync = SecretSyncRunner(engine: engine, logger: logger, configuration: { state.configuration })
        let operations = HostOperations(logger: logger, store: JobStore(path: jobsPath, logger: logger),
                                        configuration: { state.configuration }, apiServerAnswered: { sync.apiServerAnswered() })
        // A K3s change a crash interrupted is rolled back first, on the host-operations queue (not delaying READY=1).
        operations.startRecovery()
        let manager = ConfigurationManager(state: state, notifier: notifier, logger: logger,
                                           onReload: { old, new in sync.configurationChanged(from: old, to: new) })
        let router = Router(
            handlers: Self.handlers(state: state, manager: manager, operations: operations, sync: sync),
            authorizer: { Authorizer(adminGroup: state.configuration.control.adminGroup, k3sAdminGroup: state.configuration.control.k3sAdminGroup) },
            logger: logger)

        var services: [any Service] = []
        if let watchdog = state.watchdogInterval {
            services.append(WatchdogService(settings: WatchdogSettings(interval: watchdog), eventLoop: eventLoopGroup.next(),
                                            ping: { notifier.watchdogPing() }, state: state, logger: logger))
        }
        services.append(ReloadSignalService(manager: manager, state: state, logger: logger))
        services.append(SecretSyncService(runner: sync, state: state, logger: logger))
        if let address = state.configuration.metrics.listen {
            services.append(MetricsListenerService(address: address, eventLoopGroup: eventLoopGroup, sync: sync, state: state, logger: logger))
        }
        services.append(ControlServer(eventLoopGroup: eventLoopGroup, router: router, state: state, manager: manager,
                                      notifier: notifier, logger: logger, activatedSocket: activatedSocket))

        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = state.configuration.shutdownTimeout
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            try? await eventLoopGroup.shutdownGracefully()
            throw error
        }
        try await eventLoopGroup.shutdownGracefully()
    }

    /// Every endpoint of the control API and its handler; one file per handler under Handlers/.
    static func handlers(state: DaemonState, manager: ConfigurationManager, operations: HostOperations,
                         sync: SecretSyncRunner) -> [any APIHandler] {
        [
            VersionHandler(),
            StatusHandler(state: state, sync: sync, jobs: operations.store, k3s: { operations.k3s() }),
            MetricsHandler(sync: sync),
            DoctorHandler(state: state, sync: sync, operations: operations),
            ConfigReloadHandler(state: state, manager: manager),
            SystemdDaemonReloadHandler(operations: operations),
            K3sRestartHandler(operations: operations),
            K3sConfigHandler(operations: operations),
            WorkloadIdentityStatusHandler(operations: operations),
            WorkloadIdentityEnableHandler(operations: operations),
            WorkloadIdentityDisableHandler(operations: operations),
            APIServerArgsHandler(operations: operations),
            APIServerArgsEditHandler(operations: operations),
            JobsHandler(store: operations.store),
            JobHandler(store: operations.store),
            SecretsHandler(runner: sync),
            SecretHandler(runner: sync),
            SecretAddHandler(runner: sync),
            SecretRemoveHandler(runner: sync),
            SyncHandler(runner: sync),
        ]
    }
}
