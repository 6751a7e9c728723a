import AIOSAPI
import NIOConcurrencyHelpers
import NIOCore

/// Open control connections, counted per peer uid, so no one user can take every slot: each non-root uid may hold
/// a quarter of `control.maxConnections`, users other than root together the whole limit, and root the limit plus
/// slots of its own, so 300 connections from one user lock out neither root nor another user.
final class ConnectionShares: Sendable {
    let limit: Int
    var perUser: Int { max(1, limit / 4) }
    /// Connections only root may open once the limit is reached.
    static let rootReserve = 8
    /// Refusals are logged at most once per this interval, with how many there were.
    static let logInterval = TimeAmount.seconds(10)

    private struct State {
        var total = 0
        var nonRoot = 0
        var byUser: [UInt32: Int] = [:]
        var refusing = 0
        var refusedSinceLog = 0
        var lastLog: NIODeadline?
    }

    private let state = NIOLockedValueBox(State())

    init(limit: Int) { self.limit = limit }

    /// Takes a slot for `uid`, or false if its share (or the whole limit) is used up.
    func acquire(uid: UInt32) -> Bool {
        state.withLockedValue { state in
            let held = state.byUser[uid, default: 0]
            let allowed = uid == 0 ? state.total < limit + Self.rootReserve : state.nonRoot < limit && held < perUser
            guard allowed else { return false }
            state.total += 1
            if uid != 0 { state.nonRoot += 1 }
            state.byUser[uid] = held + 1
            return true
        }
    }

    func release(uid: UInt32) {
        state.withLockedValue { state in
            state.total -= 1
            if uid != 0 { state.nonRoot -= 1 }
            let held = state.byUser[uid, default: 1] - 1
            state.byUser[uid] = held > 0 ? held : nil
        }
    }

    /// Refused connections waiting for their request to be answered `busy` (answered and closed at once past the cap).
    static let maximumRefusing = 64
    /// How long a refused connection may take to send its request.
    static let refusalGrace = TimeAmount.seconds(1)

    func startRefusal() -> Bool {
        state.withLockedValue { state in
            guard state.refusing < Self.maximumRefusing else { return false }
            state.refusing += 1
            return true
        }
    }

    func endRefusal() { state.withLockedValue { $0.refusing -= 1 } }

    func held(by uid: UInt32) -> Int { state.withLockedValue { $0.byUser[uid, default: 0] } }

    /// Notes a refusal; returns how many to report if it is time to log (a flood must not flood the journal).
    func noteRefusal(now: NIODeadline = .now()) -> Int? {
        state.withLockedValue { state in
            state.refusedSinceLog += 1
            if let last = state.lastLog, now - last < Self.logInterval { return nil }
            state.lastLog = now
            defer { state.refusedSinceLog = 0 }
            return state.refusedSinceLog
        }
    }
}

/// The first handler of a control connection: admits it within its uid's share, or answers 503 `busy` (raw bytes)
/// and closes it. A refused client gets its answer once it has sent something (a client such as curl takes a
/// connection closed before it wrote for "nobody there", not "busy"), within `refusalGrace`; past
/// `maximumRefusing` such waits, it is answered and closed at once. Nothing reaches the HTTP handlers of a refused
/// connection.
final class ConnectionAdmission: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shares: ConnectionShares
    private let onRefused: @Sendable (_ uid: UInt32, _ reportCount: Int?) -> Void
    private enum Admission { case pending, admitted, refused }
    private var admission = Admission.pending
    /// Whose share this connection holds, until it closes.
    private var admittedUid: UInt32?

    init(shares: ConnectionShares, onRefused: @escaping @Sendable (UInt32, Int?) -> Void) {
        self.shares = shares
        self.onRefused = onRefused
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        // On the channel's own loop the option is read at once. Unknown credentials count as one unprivileged user.
        ControlConnectionHandler.readPeerCredentials(channel).map(\.uid).recover { _ in UInt32.max }.assumeIsolated().whenSuccess { [self] uid in
            guard shares.acquire(uid: uid) else {
                onRefused(uid, shares.noteRefusal())
                admission = .refused
                guard shares.startRefusal() else {
                    // Past the cap nothing waits: the answer goes out at once and the connection closes. A client
                    // that reads after a failed send, as aiosctl does, still learns it is busy, not "not running".
                    answerBusy(context: context)
                    return
                }
                let shares = self.shares
                channel.closeFuture.whenComplete { _ in shares.endRefusal() }
                context.eventLoop.assumeIsolated().scheduleTask(in: ConnectionShares.refusalGrace) { [weak self] in
                    self?.answerBusy(context: context)
                }
                return
            }
            admission = .admitted
            admittedUid = uid
            context.fireChannelActive()
        }
    }

    /// The share is freed as the connection closes, in the same event-loop turn (the close future completes a
    /// turn later, after connections accepted meanwhile would have been counted against a share already free).
    func channelInactive(context: ChannelHandlerContext) {
        if let uid = admittedUid {
            admittedUid = nil
            shares.release(uid: uid)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch admission {
        case .admitted: context.fireChannelRead(data)
        case .refused: answerBusy(context: context)
        case .pending: break
        }
    }

    private var answered = false

    private func answerBusy(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: Self.busyResponse))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    static let busyResponse: [UInt8] = {
        let reply = APIReply.error(APIError(code: .busy, message: "aiosd has too many open control connections from this user; try again shortly",
                                            hint: "see who holds them: ss -xp | grep aiosd"))
        let head = "HTTP/1.1 \(reply.status) Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(reply.body.count)\r\n"
            + "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + reply.body
    }()
}
