import AIOSHTTP
import Synchronization

/// Keeps up to `capacity` idle `HTTPConnection`s so concurrent requests to one vault each reuse an open
/// connection. A connection is checked out by exactly one thread at a time.
final class HTTPConnectionPool: @unchecked Sendable {
    // @unchecked: `idle` is guarded by `lock`; a connection is only touched by the thread that checked it out.
    private let lock = Mutex(())
    private var idle: [HTTPConnection] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let connection = lock.withLock { _ in idle.popLast() } ?? HTTPConnection()
        let response: HTTPResponse
        do {
            response = try connection.send(request)
        } catch {
            // A failed transfer may leave the handle's connection in a bad state; let it go.
            throw error
        }
        lock.withLock { _ in if idle.count < capacity { idle.append(connection) } }
        return response
    }

    var transport: HTTPTransport {
        HTTPTransport { request throws(HTTPClientError) in try self.send(request) }
    }
}
