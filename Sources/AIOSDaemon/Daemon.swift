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
    /// When the schedule runs the first cycle (tests that must see definitions before any cycle push it out).
    let firstSyncDelay: Duration

    public init(state: DaemonState, notifier: Notifier = Notifier(), logger: Logger, jobsPath: String = JobStore.defaultPath,
                syncStatePath: String = SyncStateStore.defaultPath, contentHashKeyPath: String = ContentHasher.defaultKeyPath,
                firstSyncDelay: Duration = .seconds(2)) {
        self.firstSyncDelay = firstSyncDelay
        self.state = state
        self.notifier = notifier
        self.logger = logger
        self.jobsPath = jobsPath
        self.syncStatePath = syncStatePath
        self.contentHashKeyPath = contentHashKeyPath
    }

    public func run() async throws {
        ProcessMemory.limitArenas()
        ProcessMemory.mapLargeBlocks()
        RelocationTable.release()
        let activatedSocket = try ListenFDs.takeUnixListener()
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = self.state, notifier = self.notifier, logger = self.logger
        // Short blocking work of the control requests and SIGHUP: definition files, the configuration file, doctor.
        let io = BlockingPool(threads: 2)
        let tasks = TaskSupervisor()
        let connections = SyncConnections()
        let election = SyncElection(configuration: { state.configuration },
                                    leases: CurrentLeaseClient { () throws(SyncIssue) in try connections.kubernetes(configuration: state.configuration.sync) },
                                    logger: logger)
        let engine = SecretSyncEngine(state: SyncStateStore(path: syncStatePath), hasherKeyPath: contentHashKeyPath, connections: connections,
                                      workers: SyncWorkers(), logger: logger, mayWrite: { election.mayWrite })
        let definitionWatch = PublishedDefinitionsWatch(leases: election.leases, logger: logger, shouldWatch: { election.nodeRole == .server })
        let publisher = DefinitionPublisher(leases: election.leases, watched: definitionWatch, configuration: { state.configuration }, logger: logger)
        let sync = SecretSyncRunner(engine: engine, logger: logger, tasks: tasks, configuration: { state.configuration },
                                    election: election, publisher: publisher)
        let issuerRefresh = NodeHeartbeatService.IssuerRefresh()
        // A K3s job that saw the API server, or a reload (leader election or the kubeconfig may have changed).
        let k3sArrival = K3sArrival()
        let operations = HostOperations(logger: logger, store: JobStore(path: jobsPath, logger: logger), io: io,
                                        configuration: { state.configuration },
                                        apiServerAnswered: { sync.apiServerAnswered(); issuerRefresh.request(); k3sArrival.announce() })
        let manager = ConfigurationManager(state: state, notifier: notifier, logger: logger,
                                           onReload: { old, new in sync.configurationChanged(from: old, to: new); k3sArrival.announce() })
        let router = Router(
            handlers: Self.handlers(state: state, manager: manager, operations: operations, sync: sync, tasks: tasks, io: io),
            authorizer: { Authorizer(adminGroup: state.configuration.control.adminGroup, k3sAdminGroup: state.configuration.control.k3sAdminGroup) },
            logger: logger)

        // The concurrency model (DESIGN.md, "Runtime and concurrency"): every long-running piece is a Service of
        // this one group, and nothing else runs for long: work that outlives its caller is a child task of the
        // TaskSupervisor (no free `Task {}`), and every call that blocks (HTTP, files, sd-bus, subprocesses)
        // runs on a BlockingPool of a fixed number of threads, never on the cooperative pool or the event loop.
        // The group starts the services in this order and shuts them down in reverse: the control server stops
        // listening first, the requests in flight (children of the supervisor) and the host job running finish
        // within `shutdownTimeout`, and the watchdog pings until the end. Past `shutdownTimeout` the group
        // cancels everything; blocking work already running is then abandoned to the process exit.
        var services: [any Service] = []
        if let watchdog = state.watchdogInterval {
            services.append(WatchdogService(settings: WatchdogSettings(interval: watchdog), eventLoop: eventLoopGroup.next(),
                                            ping: { notifier.watchdogPing() }, state: state, logger: logger))
        }
        services.append(tasks)
        services.append(HostJobService(operations: operations, state: state))
        services.append(ReloadSignalService(manager: manager, state: state, io: io, logger: logger))
        services.append(K3sArrivalWatchService(arrival: k3sArrival, kubeconfig: { state.configuration.sync.kubeconfig }, state: state, logger: logger))
        services.append(LeaderElectionService(election: election, state: state, logger: logger, k3sArrival: k3sArrival,
                                              onBecameLeader: { sync.clusterChanged("this node became the sync leader") }))
        services.append(DefinitionWatchService(watch: definitionWatch, election: election, k3sArrival: k3sArrival, state: state))
        services.append(NodeHeartbeatService(election: election, publisher: publisher, state: state, logger: logger, k3sArrival: k3sArrival,
                                             issuers: { NodeHeartbeatService.issuers(of: operations.k3s()) }, refresh: issuerRefresh,
                                             onPublishedChange: { if election.mayWrite { sync.clusterChanged("definitions published in the cluster changed") } }))
        services.append(ClusterWatchService(runner: sync, state: state, logger: logger))
        services.append(SecretSyncService(runner: sync, state: state, logger: logger, firstCycleDelay: firstSyncDelay))
        services.append(K3sRolloutService(rollouts: K3sRollouts(operations: operations), state: state, logger: logger, k3sArrival: k3sArrival))
        if let address = state.configuration.metrics.listen {
            services.append(MetricsListenerService(address: address, eventLoopGroup: eventLoopGroup, sync: sync, state: state, logger: logger))
        }
        services.append(ControlServer(eventLoopGroup: eventLoopGroup, router: router, state: state, manager: manager,
                                      notifier: notifier, logger: logger, activatedSocket: activatedSocket, tasks: tasks))

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
                         sync: SecretSyncRunner, tasks: TaskSupervisor, io: BlockingPool) -> [any APIHandler] {
        [
            VersionHandler(),
            StatusHandler(state: state, sync: sync, jobs: operations.store, k3s: { operations.k3s() }, io: io),
            MetricsHandler(sync: sync),
            DoctorHandler(state: state, sync: sync, operations: operations, io: io),
            ConfigReloadHandler(state: state, manager: manager, io: io),
            SystemdDaemonReloadHandler(operations: operations),
            K3sRestartHandler(operations: operations),
            K3sConfigHandler(operations: operations),
            WorkloadIdentityStatusHandler(operations: operations),
            WorkloadIdentityEnableHandler(operations: operations),
            WorkloadIdentityDisableHandler(operations: operations),
            APIServerArgsHandler(operations: operations),
            APIServerArgsEditHandler(operations: operations),
            K3sRolloutHandler(rollouts: K3sRollouts(operations: operations)),
            K3sRolloutAbortHandler(rollouts: K3sRollouts(operations: operations)),
            JobsHandler(store: operations.store),
            JobHandler(store: operations.store),
            SecretsHandler(runner: sync, io: io),
            SecretHandler(runner: sync, io: io),
            SecretAddHandler(runner: sync),
            SecretRemoveHandler(runner: sync),
            SyncHandler(runner: sync, tasks: tasks),
            ClusterHandler(runner: sync, io: io),
        ]
    }
}
