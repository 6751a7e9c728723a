import FoundationEssentials

/// Where one vault lives, `https://<vault>.<dnsSuffix>[:port]`, and which URLs belong to it (the bearer token
/// is only ever sent there).
struct KeyVaultEndpoint: Sendable, Equatable {
    let vaultName: String
    let dnsSuffix: String
    let port: Int

    init(vaultName: String, dnsSuffix: String, port: Int) throws(KeyVaultError) {
        // Vault names: 3-24 of [0-9a-zA-Z-]; the suffix a DNS name.
        let nameOK = (3...24).contains(vaultName.count) && vaultName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        let suffixOK = !dnsSuffix.isEmpty && !dnsSuffix.hasPrefix(".") && !dnsSuffix.hasSuffix(".")
            && dnsSuffix.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        guard nameOK, suffixOK, (1...65535).contains(port) else {
            throw KeyVaultError(kind: .invalidRequest, message: "'\(vaultName)' with DNS suffix '\(dnsSuffix)' is not a valid vault address",
                                operation: "configure vault")
        }
        self.vaultName = vaultName.lowercased()
        self.dnsSuffix = dnsSuffix.lowercased()
        self.port = port
    }

    var host: String { "\(vaultName).\(dnsSuffix)" }
    /// `host[:port]` with the default port dropped, as the challenge check compares it.
    var authority: String { port == 443 ? host : "\(host):\(port)" }
    var baseURL: String { "https://\(authority)" }

    /// True if `link` (a `nextLink`) is https on this vault's host and port (`:443` may be explicit) with no user info.
    func owns(_ link: String) -> Bool {
        guard let url = URLComponents(string: link), url.scheme?.lowercased() == "https",
              url.user == nil, url.password == nil, url.host?.lowercased() == host else { return false }
        return (url.port ?? 443) == port
    }
}
