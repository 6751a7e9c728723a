import AIOSAPI
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Glibc

/// Limits that protect the daemon from slow, large or hostile clients.
struct ConnectionLimits: Sendable {
    var maxBodyBytes: Int
    /// From connect (or the previous response) to a complete request head.
    var headerTimeout: TimeAmount
    /// From the request head to its complete body.
    var bodyTimeout: TimeAmount
    var idleTimeout: TimeAmount
}

/// Serves one control connection: reads requests with NIO's HTTP/1.1 decoder, refuses browsers (Origin/Referer)
/// and oversized bodies, and hands each request to the router with the peer's credentials. Pipelined requests
/// (several in one write) are answered in order: NIO's pipelining helper holds the next until this response ends.
final class ControlConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, [UInt8])
        /// The request was answered early (refused); ignore the rest of it, then close.
        case discarding
        case responding
    }

    private let router: Router
    private let limits: ConnectionLimits
    private let logger: Logger
    /// Runs each request's handler and its streamed reply (children of the supervisor, never free tasks).
    private let tasks: TaskSupervisor
    private var state = State.idle
    private var peer: PeerCredentials?
    /// Closes the connection if the request in progress (head, then body) is not complete in time.
    private var requestDeadline: Scheduled<Void>?
    /// While a stream is written: sends `StreamKeepAlive.line` when nothing else went out for a tick.
    private var streamKeepAlive: RepeatedTask?
    private var streamWroteSinceTick = false
    /// A request is being handled and nothing of its reply is written yet: the connection is busy, not idle.
    private var awaitingReply = false

    init(router: Router, limits: ConnectionLimits, logger: Logger, tasks: TaskSupervisor) {
        self.router = router
        self.limits = limits
        self.logger = logger
        self.tasks = tasks
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connectionStarted(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context: context)
        context.fireChannelActive()
    }

    private func connectionStarted(context: ChannelHandlerContext) {
        guard requestDeadline == nil else { return }
        // On the channel's own loop the option is read at once, so the callback runs before any request is read.
        Self.readPeerCredentials(context.channel).assumeIsolated().whenSuccess { [weak self] in self?.peer = $0 }
        armRequestDeadline(context: context, in: limits.headerTimeout)
    }

    /// A client must send its request head, then its body, in time, or it is dropped: sending a byte now and then
    /// cannot hold a connection slot forever (the idle timeout alone would allow that).
    private func armRequestDeadline(context: ChannelHandlerContext, in timeout: TimeAmount) {
        requestDeadline?.cancel()
        let channel = context.channel
        requestDeadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestDeadline?.cancel()
        streamKeepAlive?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            armRequestDeadline(context: context, in: limits.bodyTimeout)
            if head.headers.contains(name: "Origin") || head.headers.contains(name: "Referer") {
                refuse(context: context, APIError(code: .originRefused,
                    message: "requests with an Origin or Referer header are refused: no browser may drive aiosd"))
                return
            }
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxBodyBytes {
                refuse(context: context, tooLarge())
                return
            }
            state = .receiving(head, [])
        case (.body(var buffer), .receiving(let head, var body)):
            guard body.count + buffer.readableBytes <= limits.maxBodyBytes else {
                refuse(context: context, tooLarge())
                return
            }
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
            state = .receiving(head, body)
        case (.end, .receiving(let head, let body)):
            requestDeadline?.cancel()
            state = .responding
            dispatch(context: context, head: head, body: body)
        case (.end, .discarding):
            context.close(promise: nil)
        case (_, .discarding):
            break
        default:
            // Parts out of order (the pipelining helper holds a next request until this one is answered).
            refuse(context: context, APIError(code: .badRequest, message: "unexpected request data"))
        }
    }

    private func tooLarge() -> APIError {
        APIError(code: .payloadTooLarge, message: "request body larger than \(limits.maxBodyBytes) bytes")
    }

    private func dispatch(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8]) {
        let router = self.router
        let peer = self.peer ?? PeerCredentials(pid: 0, uid: UInt32.max, gid: UInt32.max)
        let path = String(head.uri.prefix(while: { $0 != "?" }))
        let method = head.method.rawValue
        let keepAlive = head.isKeepAlive
        let wantsStream = head.headers[canonicalForm: "Accept"].contains { $0.lowercased().contains(JobEvent.contentType) }
        if let problem = RequestText.problem(path: head.uri, body: body) {
            write(context: context, reply: .error(problem), keepAlive: keepAlive)
            return
        }
        let promise = context.eventLoop.makePromise(of: APIReply.self)
        awaitingReply = true
        let started = tasks.spawn {
            promise.succeed(await router.route(method: method, path: path, body: body, peer: peer, wantsStream: wantsStream))
        }
        if !started { promise.succeed(.error(TaskSupervisor.stopping)) }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { reply in
            let (handler, context) = loopBound.value
            handler.awaitingReply = false
            if let stream = reply.stream {
                handler.writeStream(context: context, stream: stream, keepAlive: keepAlive)
            } else {
                handler.write(context: context, reply: reply, keepAlive: keepAlive)
            }
        }
    }

    private func refuse(context: ChannelHandlerContext, _ error: APIError) {
        state = .discarding
        write(context: context, reply: .error(error), keepAlive: false)
    }

    private func write(context: ChannelHandlerContext, reply: APIReply, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.count))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        let written = context.writeAndFlushPromise()
        let ready: Bool
        if keepAlive, case .responding = state { ready = true } else { ready = false }
        // Ready for the next request before `.end` goes out: writing it lets NIO's pipelining helper deliver a
        // request the client already sent, within this very call.
        if ready { readyForNextRequest(context: context) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        if !ready {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func readyForNextRequest(context: ChannelHandlerContext) {
        state = .idle
        armRequestDeadline(context: context, in: limits.idleTimeout)
    }

    /// Sends NDJSON lines as the job produces them (chunked transfer encoding), then ends the response.
    private func writeStream(context: ChannelHandlerContext, stream: LineBatches, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: JobEvent.contentType)
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        // A job may report nothing for longer than the idle timeout (IdleStateHandler counts writes too): a
        // keep-alive line after each silent tick keeps the connection from being closed as idle under the client.
        let tick = ControlServer.timeAmount(StreamKeepAlive.interval(idleTimeout: .nanoseconds(limits.idleTimeout.nanoseconds)))
        streamWroteSinceTick = false
        streamKeepAlive = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
            let (handler, context) = loopBound.value
            if handler.streamWroteSinceTick {
                handler.streamWroteSinceTick = false
            } else {
                handler.writeStreamLine(context: context, StreamKeepAlive.line)
            }
        }
        // Lines that come close together (a first sync reports thousands of Secrets a second) go out as one write:
        // one line per write and per event loop hop was a tenth of the CPU of a first sync at 10,000 Secrets.
        let window = Duration.nanoseconds(Self.streamBatchWindow.nanoseconds)
        let started = tasks.spawn {
            await stream.forEachBatch(window: window) { batch in
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.writeStreamLine(context: context, batch)
                    handler.streamWroteSinceTick = true
                }
            }
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.streamKeepAlive?.cancel()
                handler.streamKeepAlive = nil
                let channel = context.channel
                if keepAlive { handler.readyForNextRequest(context: context) }
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    if !keepAlive { channel.close(promise: nil) }
                }
            }
        }
        if !started {
            streamKeepAlive?.cancel()
            context.close(promise: nil)
        }
    }

    /// How long the first line of a batch of streamed lines waits for more (unnoticeable to a person watching).
    static let streamBatchWindow = TimeAmount.milliseconds(50)

    private func writeStreamLine(context: ChannelHandlerContext, _ line: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: line)))), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // A handler that takes longer than the idle timeout (`sync` with `wait` and no stream, a host job
            // answered at its end) keeps its connection; once the reply is written, idleness counts again.
            if !awaitingReply { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("Control connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Without credentials the peer stays unknown and is treated as unprivileged.
    static func readPeerCredentials(_ channel: Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        let future: EventLoopFuture<PeerCredentials.UCred> = provider.unsafeGetSocketOption(
            level: .socket, name: NIOBSDSocket.Option(rawValue: Glibc.SO_PEERCRED))
        return future.map { PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid) }
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}
