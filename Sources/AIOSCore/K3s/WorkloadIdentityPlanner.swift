/// Decides what `aiosctl workload-identity enable --issuer URL` must write, or why it must refuse,
/// from the effective K3s configuration (DESIGN.md section 4). Pure: the daemon does the I/O.
public struct WorkloadIdentityPlanner: Sendable {
    /// The issuer K3s signs with by default; kept as a second issuer so existing tokens stay valid.
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    static let issuerFlag = "service-account-issuer"
    static let expirationFlag = "service-account-max-token-expiration"

    public enum Plan: Sendable, Equatable {
        /// The drop-in already says exactly this: change nothing, restart nothing.
        case unchanged
        /// Write these arguments as the drop-in's whole content, then restart K3s and verify.
        case write([APIServerArgument])
    }

    public struct Refusal: Error, CustomStringConvertible, Sendable, Equatable {
        public let description: String

        public init(description: String) { self.description = description }
    }

    public init() {}

    /// - Parameters:
    ///   - effective: the merged configuration, including the agent's drop-in and the command line.
    ///   - dropIn: the agent's current arguments (from `AgentDropIn.path`).
    public func enable(issuer: String, maxTokenExpiration: String = "24h", effective: K3sEffectiveConfiguration,
                       dropIn: [APIServerArgument]) throws(Refusal) -> Plan {
        try Self.validateIssuer(issuer)
        guard DurationParser.parse(maxTokenExpiration) != nil else {
            throw Refusal(description: "--max-token-expiration \(maxTokenExpiration) is not a duration such as 24h")
        }
        try Self.ensureEditTakesEffect(effective: effective, dropIn: dropIn)
        let arguments = effective.setting("kube-apiserver-arg")?.values ?? []
        for value in arguments where value.source.name != AgentDropIn.path {
            let argument = APIServerArgument(parsing: value.value)
            if argument.flagName == Self.issuerFlag && argument.value != issuer {
                throw Refusal(description: "\(value.location) already sets service-account-issuer=\(argument.value); remove it there (aiosd keeps the previous issuer as a second issuer itself)")
            }
        }
        let ours = dropIn.filter { $0.flagName == Self.issuerFlag }.map(\.value)
        let previous = ours.first ?? Self.defaultIssuer
        var wanted = dropIn.filter { $0.flagName != Self.issuerFlag && $0.flagName != Self.expirationFlag }
        wanted.append(APIServerArgument(name: Self.issuerFlag, value: issuer))
        if previous != issuer { wanted.append(APIServerArgument(name: Self.issuerFlag, value: previous)) }
        else if ours.count > 1 { wanted.append(APIServerArgument(name: Self.issuerFlag, value: ours[1])) }
        wanted.append(APIServerArgument(name: Self.expirationFlag, value: maxTokenExpiration))
        return wanted == dropIn ? .unchanged : .write(wanted)
    }

    /// Refuses when an edit of the agent's drop-in would not reach the API server: the unit's command line
    /// overrides every file, or a later drop-in without `+` replaces the whole list.
    public static func ensureEditTakesEffect(effective: K3sEffectiveConfiguration, dropIn: [APIServerArgument]) throws(Refusal) {
        let arguments = effective.setting("kube-apiserver-arg")?.values ?? []
        if let flag = arguments.first(where: { $0.source.kind == .commandLine }) {
            throw Refusal(description: "kube-apiserver-arg is set on the command line (\(flag.location)), which overrides every configuration file; move those flags to /etc/rancher/k3s/config.yaml first")
        }
        if !dropIn.isEmpty, let first = arguments.first, !arguments.contains(where: { $0.source.name == AgentDropIn.path }) {
            throw Refusal(description: "\(first.location) sets kube-apiserver-arg without '+' after \(AgentDropIn.path), replacing its entries; use 'kube-apiserver-arg+:' there")
        }
    }

    /// The issuer the API server will serve with `effective`: the first configured, or K3s' default.
    public static func firstIssuer(in effective: K3sEffectiveConfiguration) -> String {
        (effective.setting("kube-apiserver-arg")?.values ?? []).map { APIServerArgument(parsing: $0.value) }
            .first { $0.flagName == issuerFlag }?.value ?? defaultIssuer
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
