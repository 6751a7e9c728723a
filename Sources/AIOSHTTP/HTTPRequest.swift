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

    public init(method: Method, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                unixSocketPath: String? = nil, timeout: Duration = .seconds(30), tls: TLSCredentials? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.timeout = timeout
        self.tls = tls
    }
}

/// PEM-encoded trust anchors and an optional client certificate and key. Verification of the server stays on;
/// only what it is verified against changes.
public struct TLSCredentials: Sendable {
    public var caBundlePEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(caBundlePEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil) {
        self.caBundlePEM = caBundlePEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A transport failure: the request did not produce an HTTP response.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable { case couldNotConnect, timedOut, transport }

    public let kind: Kind
    /// libcurl's own description of what went wrong.
    public let message: String

    public var description: String { message }
}
