import Glibc

/// Connections kept across requests, so the next request to the same server reuses the open TCP/TLS connection.
///
/// aiosd speaks HTTP/1.1 itself (`HTTP1Channel`, over OpenSSL): one write per request and one poll and read or two
/// per answer. libcurl carries only what goes through a proxy (`network.proxy`, or a proxy in the environment of
/// a request that follows it), where its CONNECT tunnels and `no_proxy` rules are needed.
///
/// Not thread-safe: use one connection from one thread at a time (a pool hands them out per request).
public final class HTTPConnection {
    private let systemTrust: SystemTrustStore
    private let environment: @Sendable (String) -> String?
    /// Most recently used last; a worker alternates between its vault and the API server.
    private var channels: [HTTP1Channel] = []
    private var curl: CurlTransfer?

    static let maximumChannels = 4

    /// - Parameter systemTrust: the trust anchors of requests that bring no CA bundle of their own.
    public convenience init(systemTrust: SystemTrustStore = .shared) {
        self.init(systemTrust: systemTrust, environment: { name in getenv(name).map { String(cString: $0) } })
    }

    init(systemTrust: SystemTrustStore, environment: @escaping @Sendable (String) -> String?) {
        self.systemTrust = systemTrust
        self.environment = environment
    }

    /// Sends `request` and collects the whole body and the final response's headers.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        var body: [UInt8] = []
        let (status, headers) = try stream(request) { body.append(contentsOf: $0) }
        return HTTPResponse(status: status, body: body, headers: headers)
    }

    /// Sends `request`, handing each chunk of the body to `onData` as it arrives. Returns status and headers.
    public func stream(_ request: HTTPRequest, onData: (UnsafeRawBufferPointer) -> Void)
        throws(HTTPClientError) -> (status: Int, headers: [(name: String, value: String)]) {
        if goesThroughProxy(request) {
            let curl: CurlTransfer
            if let existing = self.curl {
                curl = existing
            } else {
                curl = try CurlTransfer(systemTrust: systemTrust)
                self.curl = curl
            }
            return try curl.stream(request, onData: onData)
        }
        let deadline = ContinuousClock.now + request.timeout
        let target = try RequestTarget(url: request.url)
        let key = HTTP1Channel.Key(target, request)
        if let index = channels.lastIndex(where: { $0.key == key }) {
            let channel = channels.remove(at: index)
            if channel.isReady {
                do {
                    let answer = try channel.exchange(request, target: target, deadline: deadline, onData: onData)
                    keep(channel)
                    return answer
                } catch {
                    // The server closed the kept connection as the request went out: once more on a new one.
                    guard channel.failedBeforeAnswer, ContinuousClock.now < deadline else { throw error }
                }
            }
        }
        let channel = try HTTP1Channel(key: key, systemTrust: systemTrust, tls: request.tls, deadline: deadline)
        let answer = try channel.exchange(request, target: target, deadline: deadline, onData: onData)
        keep(channel)
        return answer
    }

    private func keep(_ channel: HTTP1Channel) {
        guard channel.reusable else { return }
        channels.append(channel)
        if channels.count > Self.maximumChannels { channels.removeFirst() }
    }

    /// A request goes through a proxy when it asks for `network.proxy` and one is set, or when it follows the
    /// environment (neither bypassing nor asking for the configured proxy) and a proxy variable libcurl reads is set.
    func goesThroughProxy(_ request: HTTPRequest) -> Bool {
        if request.unixSocketPath != nil || request.bypassesProxy { return false }
        if request.usesOutboundProxy { return OutboundProxy.current != nil }
        return Self.proxyVariables.contains { environment($0).map { !$0.isEmpty } ?? false }
    }

    static let proxyVariables = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
}
