/// One HTTP request for `HTTPClient`. `unixSocketPath` sends it over a Unix socket instead of TCP
/// (`CURLOPT_UNIX_SOCKET_PATH`; the URL's host then only fills the Host header).
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE" }

    public var method: Method
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var unixSocketPath: String?
    public var timeout: Duration
    /// TLS material held in memory (PEM), never written to disk.
    public var tls: TLSCredentials?
    /// Ignores `http_proxy`/`https_proxy`/`all_proxy` from the environment. Link-local and loopback identity
    /// endpoints (IMDS, Azure Arc) must never be reached through a proxy.
    public var bypassesProxy: Bool
    /// Goes through `OutboundProxy.current` if set, else directly; never through the environment's proxy.
    public var usesOutboundProxy: Bool
    /// The most body bytes read; past it the transfer stops with `.responseTooLarge`, so a hostile or broken
    /// server cannot grow aiosd's memory. Each client sets what fits its service.
    public var maximumResponseBytes: Int

    /// Fits a Kubernetes list of the objects aiosd reads (an object is at most ~1.5 MiB in etcd).
    public static let defaultMaximumResponseBytes = 16 << 20

    public init(method: Method, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                unixSocketPath: String? = nil, timeout: Duration = .seconds(30), tls: TLSCredentials? = nil,
                bypassesProxy: Bool = false, usesOutboundProxy: Bool = false, maximumResponseBytes: Int = defaultMaximumResponseBytes) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.timeout = timeout
        self.tls = tls
        self.bypassesProxy = bypassesProxy
        self.usesOutboundProxy = usesOutboundProxy
        self.maximumResponseBytes = maximumResponseBytes
    }
}

/// PEM-encoded trust anchors and an optional client certificate and key. Verification of the server stays on;
/// only what it is verified against changes.
public struct TLSCredentials: Sendable {
    public var caBundlePEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// `caBundlePEM` is the only trust: the system store (libcurl's default CA path) is not consulted. For a server
    /// with a CA of its own (the K3s API server: k3s.yaml's CA), a certificate from any public CA must not pass.
    public var trustsOnlyBundle: Bool

    public init(caBundlePEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
                trustsOnlyBundle: Bool = false) {
        self.caBundlePEM = caBundlePEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.trustsOnlyBundle = trustsOnlyBundle
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// The final response's headers in arrival order (those of a redirect or `100 Continue` are dropped).
    public var headers: [(name: String, value: String)]

    public init(status: Int, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The first header called `name` (compared case-insensitively), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && lowercased() == other.lowercased()
    }
}

/// A transport failure: the request did not produce an HTTP response.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable { case couldNotConnect, timedOut, transport, responseTooLarge }

    public let kind: Kind
    /// libcurl's own description of what went wrong.
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The body grew past `limit`: nothing past it was handed on.
    static func responseTooLarge(limit: Int) -> HTTPClientError {
        HTTPClientError(kind: .responseTooLarge, message: "the response body exceeds \(limit) bytes; the rest was not read")
    }
}
