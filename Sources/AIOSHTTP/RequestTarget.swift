/// Where an `http://` or `https://` URL sends a request: the host to connect to, the Host header, and the
/// request-target (path and query).
struct RequestTarget: Equatable {
    var secure: Bool
    /// The host name or IP literal, without an IPv6 literal's brackets.
    var host: String
    var port: Int
    /// The Host header: the URL's host as written, and its port unless the scheme's default.
    var hostHeader: String
    /// The path and query, starting with `/`; a fragment is dropped.
    var path: String

    init(url: String) throws(HTTPClientError) {
        // Spaces and control characters would change the request line or add headers: refused, not escaped.
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7f }) else { throw Self.invalid("it holds spaces or control characters") }
        var rest = Substring(url)
        let scheme = rest.prefix(8).lowercased()
        if scheme.hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if scheme.hasPrefix("http://") {
            secure = false
            rest = rest.dropFirst(7)
        } else {
            throw Self.invalid("only http and https are spoken")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = rest[authorityEnd...]
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        path = target.hasPrefix("/") ? String(target) : "/" + target
        guard !authority.contains("@") else { throw Self.invalid("credentials in a URL are not accepted") }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw Self.invalid("its IPv6 address has no closing bracket") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Self.invalid("its host is malformed") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw Self.invalid("it has no host") }
        let defaultPort = secure ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ (48...57).contains($0) }), let port = Int(portText),
                  (1...65535).contains(port) else {
                throw Self.invalid("its port is not a number from 1 to 65535")
            }
            self.port = port
        } else {
            port = defaultPort
        }
        let hostText = authority.hasPrefix("[") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? hostText : "\(hostText):\(port)"
    }

    private static func invalid(_ why: String) -> HTTPClientError {
        HTTPClientError(kind: .transport, message: "the request's URL is not valid: \(why)")
    }
}
