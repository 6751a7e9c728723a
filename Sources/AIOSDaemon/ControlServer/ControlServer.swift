import AIOSAPI
import AIOSCore
import AIOSSystemd
import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The control API on the Unix socket. Reports READY=1 to systemd once the socket listens,
/// and STOPPING=1 when a graceful shutdown begins.
public struct ControlServer: Service {
    public static let serviceName = "control-server"

    let eventLoopGroup: any EventLoopGroup
    let router: Router
    let state: DaemonState
    let manager: ConfigurationManager
    let notifier: Notifier
    let logger: Logger
    /// The socket passed by systemd socket activation, if any.
    let activatedSocket: Int32?
    /// Where each request runs (the group stops it after this service, so requests in flight can finish).
    let tasks: TaskSupervisor

    public func run() async throws {
        let control = state.configuration.control
        let limits = ConnectionLimits(maxBodyBytes: control.maxBodyBytes, headerTimeout: Self.timeAmount(control.headerTimeout),
                                      bodyTimeout: Self.timeAmount(control.bodyTimeout), idleTimeout: Self.timeAmount(control.idleTimeout))
        let shares = ConnectionShares(limit: control.maxConnections)
        let router = self.router
        let logger = self.logger
        let tasks = self.tasks
        let onRefused: @Sendable (UInt32, Int?) -> Void = { uid, count in
            guard let count else { return }
            logger.warning("Control connections refused: too many", metadata: [
                "peer.uid": "\(uid)", "refused": "\(count)", "limit": "\(control.maxConnections)", "limit.perUser": "\(shares.perUser)",
            ])
        }

        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 128)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(ConnectionAdmission(shares: shares, onRefused: onRefused))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: limits.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(
                        ControlConnectionHandler(router: router, limits: limits, logger: logger, tasks: tasks))
                }
            }

        let channel: Channel
        var boundInode: ino_t?
        let socket = ControlSocket(path: state.socketPath)
        if let activatedSocket {
            channel = try await bootstrap.withBoundSocket(activatedSocket).get()
            state.update { $0.socketActivated = true }
        } else {
            try socket.prepare()
            // No window in which the fresh socket is more open than 0660.
            let previous = umask(0o117)
            defer { umask(previous) }
            channel = try await bootstrap.bind(unixDomainSocketPath: state.socketPath).get()
            socket.restrict(group: control.socketGroup, logger: logger)
            boundInode = socket.inode()
        }

        state.setService(Self.serviceName, .running, detail: "listening on \(state.socketPath)")
        notifier.ready(status: manager.readyStatus())
        logger.notice("aiosd ready", metadata: [
            "socket.path": "\(state.socketPath)", "socket.activated": "\(activatedSocket != nil)",
            "config.path": "\(state.configPath)", "version": "\(AgentVersion.current)",
        ])

        try await withGracefulShutdownHandler {
            // Cancellation (the group giving up, or a test ending) must close the socket as well.
            try await withTaskCancellationHandler {
                try await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "Shutting down")
            logger.notice("aiosd stopping")
            channel.close(promise: nil)
        }
        state.setService(Self.serviceName, .stopped)
        // A socket systemd passed us belongs to aiosd.socket and must survive us.
        socket.remove(ifInode: boundInode)
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
