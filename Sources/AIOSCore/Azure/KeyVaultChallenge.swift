import FoundationEssentials

/// Key Vault's `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
/// resource="https://vault.azure.net"` (or `authorization_uri=`, `scope=`): which tenant and resource to get a
/// token for.
struct KeyVaultChallenge: Sendable, Equatable {
    var tenant: String
    /// The token resource, without `/.default`.
    var resource: String

    /// Parses a Bearer challenge; nil if the header is not one or lacks the authorization URI or a resource/scope.
    static func parse(_ header: String) -> KeyVaultChallenge? {
        let trimmed = header.trimmingWhitespace()
        guard trimmed.lowercased().hasPrefix("bearer ") else { return nil }
        let parameters = parseParameters(String(trimmed.dropFirst("bearer ".count)))
        guard let authorization = parameters["authorization"] ?? parameters["authorization_uri"],
              let url = URLComponents(string: authorization),
              let tenant = url.path.split(separator: "/").last.map(String.init), !tenant.isEmpty else { return nil }
        let resource: String
        if let scope = parameters["scope"], !scope.isEmpty {
            resource = scope.hasSuffix("/.default") ? String(scope.dropLast("/.default".count)) : scope
        } else if let value = parameters["resource"], !value.isEmpty {
            resource = value
        } else {
            return nil
        }
        return KeyVaultChallenge(tenant: tenant, resource: resource)
    }

    /// `name="value"` or `name=value` pairs separated by commas (names lower-cased).
    static func parseParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingWhitespace().lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let end = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = String(rest[..<end])
                rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingWhitespace()
                rest = rest[end...]
            }
            if !name.isEmpty { result[name] = value }
        }
        return result
    }

    /// Like the Azure SDK for Python's `verify_challenge_resource`: the vault's authority (`host[:port]`, `:443`
    /// dropped) must end with "." + the resource's authority, so a challenge cannot send our token elsewhere.
    static func resourceMatches(_ resource: String, vaultAuthority: String) -> Bool {
        guard let url = URLComponents(string: resource), let host = url.host?.lowercased(), !host.isEmpty else { return false }
        let authority = url.port.map { $0 == 443 ? host : "\(host):\($0)" } ?? host
        return vaultAuthority.lowercased().hasSuffix("." + authority)
    }
}
