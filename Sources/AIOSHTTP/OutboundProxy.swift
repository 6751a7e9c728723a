import Synchronization

/// The proxy for requests that may go through one (Entra ID, Key Vault: `HTTPRequest.usesOutboundProxy`), as set
/// by aiosd's `network.proxy`. Explicit only: libcurl's reading of `http_proxy`/`https_proxy` from the
/// environment is switched off for these requests, so what aiosd does does not depend on how it was started.
public enum OutboundProxy {
    private static let url = Mutex<String?>(nil)

    /// nil: no proxy.
    public static var current: String? {
        get { url.withLock { $0 } }
        set { url.withLock { $0 = newValue } }
    }

    /// `http://HOST:PORT` or `https://HOST:PORT` (optionally with a trailing `/`), nothing else: no credentials
    /// in the URL (they would show in status and logs), no path, no whitespace.
    public static func isValid(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.hasPrefix("https://") { rest = rest.dropFirst(8) } else { return false }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else { return false }
        let host = rest[..<colon]
        return !host.isEmpty && host.allSatisfy { $0.isLetter || $0.isNumber || "-._[]:".contains($0) } && host.unicodeScalars.allSatisfy(\.isASCII)
    }
}
