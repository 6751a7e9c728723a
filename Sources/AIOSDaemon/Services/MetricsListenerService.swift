import AIOSCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The optional TCP listener for a Prometheus scraper (`metrics.listen`; off by default): `GET /metrics` only,
/// the same text as the control socket's `GET /v1/metrics`. Read-only, no request body, few connections.
struct MetricsListenerService: Service {
    static let serviceName = "metrics-listener"
    static let maxConnections = 8

    let address: MetricsListenAddress
    let eventLoopGroup: any EventLoopGroup
    let sync: SecretSyncRunner
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        let sync = self.sync
        let connections = ScrapeConnections(limit: Self.maxConnections)
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard connections.acquire() else { return channel.close() }
                channel.closeFuture.whenComplete { _ in connections.release() }
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .seconds(30)))
                    try channel.pipeline.syncOperations.addHandler(MetricsConnectionHandler(sync: sync))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            // A port in use must not take the agent down: sync goes on, status says why there is no listener.
            logger.error("Cannot listen for metrics scrapes", metadata: ["metrics.listen": "\(address)", "error": "\(error)"])
            state.setService(Self.serviceName, .failed, detail: "cannot listen on \(address): \(error)")
            // Returning would end the service group (and aiosd): wait for the shutdown instead.
            try? await gracefulShutdown()
            return
        }
        state.setService(Self.serviceName, .running, detail: "GET http://\(address)/metrics")
        logger.notice("Serving metrics", metadata: ["metrics.listen": "\(address)", "loopback": "\(address.isLoopback)"])
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        state.setService(Self.serviceName, .stopped)
    }
}

/// One scraper connection: `GET /metrics` (HEAD too) answers the exposition; anything else 404 or 405.
final class MetricsConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sync: SecretSyncRunner
    private var head: HTTPRequestHead?

    init(sync: SecretSyncRunner) { self.sync = sync }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // a scrape has no body; whatever comes is dropped
        case .end:
            guard let head else { return }
            self.head = nil
            respond(context: context, head: head)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = head.uri.prefix { $0 != "?" }
        let status: HTTPResponseStatus, body: String, contentType: String
        if path != "/metrics" {
            (status, body, contentType) = (.notFound, "only /metrics is served here\n", "text/plain; charset=utf-8")
        } else if head.method != .GET && head.method != .HEAD {
            (status, body, contentType) = (.methodNotAllowed, "GET only\n", "text/plain; charset=utf-8")
        } else {
            (status, body, contentType) = (.ok, MetricsExposition.text(sync: sync), PrometheusText.contentType)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Cache-Control", value: "no-store")
        if status != .ok { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}

/// Open scraper connections against their cap.
final class ScrapeConnections: Sendable {
    private let count = NIOLockedValueBox(0)
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func acquire() -> Bool {
        count.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { count.withLockedValue { $0 -= 1 } }
}
