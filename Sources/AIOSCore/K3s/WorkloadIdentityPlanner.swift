/// Decides what `aiosctl workload-identity enable --issuer URL` must write, or why it must refuse,
/// from what K3s will run with (DESIGN.md section 4). Pure: `K3sChangeWorkflow` does the I/O.
public struct WorkloadIdentityPlanner: Sendable {
    /// The issuer K3s signs with by default; kept as a second issuer so existing tokens stay valid.
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    static let issuerFlag = "service-account-issuer"
    static let expirationFlag = "service-account-max-token-expiration"
    public static let defaultMaxTokenExpiration = "24h"

    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public init() {}

    /// The agent's drop-in arguments for `enable`: the new issuer first, the issuer served until now second (so
    /// tokens already issued stay valid), the token lifetime. An issuer or lifetime another file already gives
    /// with the same value is not repeated (kube-apiserver refuses a duplicate issuer); a different one is refused.
    /// - Parameters:
    ///   - maxTokenExpiration: nil keeps a lifetime configured elsewhere, else `defaultMaxTokenExpiration`.
    ///   - dropIn: the agent's current arguments.
    public func enable(issuer: String, maxTokenExpiration: String?, run: K3sRunConfiguration,
                       dropIn: [APIServerArgument]) throws(Refusal) -> [APIServerArgument] {
        try Self.validateIssuer(issuer)
        if let maxTokenExpiration, DurationParser.parse(maxTokenExpiration) == nil {
            throw Refusal(description: "--max-token-expiration \(maxTokenExpiration) is not a duration such as 24h")
        }
        let effective: K3sEffectiveConfiguration
        let served: String
        do {
            effective = try run.effective()
            served = try run.servedIssuer(withAgentDropIn: run.agentDropInText)
        } catch {
            throw Refusal(description: error.message)
        }
        var issuersElsewhere: [(value: String, location: String)] = []
        var expirationElsewhere = false
        for value in effective.setting("kube-apiserver-arg")?.values ?? [] where value.source.name != run.agentDropInPath {
            let argument = APIServerArgument(parsing: value.value)
            if argument.flagName == Self.issuerFlag { issuersElsewhere.append((argument.value, value.location)) }
            if argument.flagName == Self.expirationFlag {
                if let maxTokenExpiration, argument.value != maxTokenExpiration {
                    throw Refusal(description: "\(value.location) already sets service-account-max-token-expiration=\(argument.value); remove it there or enable with --max-token-expiration \(argument.value)")
                }
                expirationElsewhere = true
            }
        }
        // The operator's files already make `issuer` the signing issuer: done. Any other issuer there comes
        // before the agent's and would keep signing.
        let issuerElsewhere = issuersElsewhere.first?.value == issuer
        if !issuerElsewhere, let other = issuersElsewhere.first {
            throw Refusal(description: "\(other.location) already sets service-account-issuer=\(other.value); remove it there (aiosd keeps the previous issuer as a second issuer itself)")
        }
        var wanted = dropIn.filter { $0.flagName != Self.issuerFlag && $0.flagName != Self.expirationFlag }
        if !issuerElsewhere {
            let ours = dropIn.filter { $0.flagName == Self.issuerFlag }.map(\.value)
            wanted.append(APIServerArgument(name: Self.issuerFlag, value: issuer))
            if served != issuer {
                wanted.append(APIServerArgument(name: Self.issuerFlag, value: served))
            } else if ours.count > 1, ours[0] == issuer {
                wanted.append(APIServerArgument(name: Self.issuerFlag, value: ours[1]))
            }
        }
        if !expirationElsewhere {
            wanted.append(APIServerArgument(name: Self.expirationFlag, value: maxTokenExpiration ?? Self.defaultMaxTokenExpiration))
        }
        return wanted
    }

    /// `aiosctl k3s apiserver-arg set/unset`: every flag named in `set` gets exactly the given values (in order),
    /// every flag in `unset` is removed. Validates everything first; nil when the drop-in already says this.
    public static func edit(dropIn: [APIServerArgument], set: [APIServerArgument], unset: [String]) throws(Refusal) -> [APIServerArgument]? {
        for argument in set {
            do { try argument.validate() } catch { throw Refusal(description: error.description) }
        }
        for name in unset where !KubeAPIServerFlags.known.contains(name) {
            throw Refusal(description: "'\(name)' is not a kube-apiserver flag known to aiosd")
        }
        let replaced = Set(set.map(\.name)).union(unset)
        var result = dropIn.filter { !replaced.contains($0.name) }
        result += set
        return result == dropIn ? nil : result
    }

    /// https, a host, no whitespace or control characters, no fragment; written verbatim, trailing slash included.
    public static func validateIssuer(_ issuer: String) throws(Refusal) {
        guard issuer.hasPrefix("https://") else {
            throw Refusal(description: "issuer \(issuer) must be an https:// URL (az connectedk8s show --query oidcIssuerProfile.issuerUrl)")
        }
        if issuer.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            throw Refusal(description: "issuer contains whitespace or a control character")
        }
        guard !issuer.contains("#") else { throw Refusal(description: "issuer must not have a #fragment") }
        let host = issuer.dropFirst("https://".count).prefix { $0 != "/" && $0 != "?" }
        guard !host.isEmpty, !host.contains("@") else { throw Refusal(description: "issuer \(issuer) has no valid host") }
        guard !issuer.contains("\""), !issuer.contains("\\") else { throw Refusal(description: "issuer must not contain quotes or backslashes") }
    }
}
