/// Who may set or unset which kube-apiserver flag (issue 10, README "Security"). Pure, apart from the injected
/// `FileTrust` for flags that name a file.
///
/// Operators get a short allow-list of flags that tune limits and retention and cannot change who can
/// authenticate, what is authorized or admitted, which keys and certificates are trusted, what is audited,
/// or which APIs and features exist. The issuer flags belong to `aiosctl workload-identity enable/disable`.
/// Everything else needs root (uid 0 or `control.k3sAdminGroup`).
public enum APIServerFlagPolicy {
    /// What an operator's value must look like.
    enum ValueRule: Sendable {
        case nonNegativeInteger
        case positiveDuration
        case audiences
        case duration(ClosedRange<Duration>)
    }

    /// The operator allow-list. Why each is safe for an operator:
    /// - `api-audiences`: which audiences service-account tokens must carry; the tokens are still signed
    ///   by the cluster's own key, so no new identity can be minted.
    /// - `audit-log-maxage`, `audit-log-maxbackup`, `audit-log-maxsize`: rotation and retention of the audit
    ///   log; what is audited and where it goes (`audit-policy-file`, `audit-log-path`) stay root's.
    /// - `default-not-ready-toleration-seconds`, `default-unreachable-toleration-seconds`: how long pods stay
    ///   on a failed node; scheduling, not access.
    /// - `request-timeout`, `min-request-timeout`, `max-requests-inflight`, `max-mutating-requests-inflight`:
    ///   timeouts and throttling; at worst availability, which an operator already controls (`k3s restart`).
    /// - `service-account-max-token-expiration`: only from 1h to 24h (24h is what the workload-identity
    ///   flow sets), so an operator cannot allow year-long tokens.
    static let operatorFlags: [String: ValueRule] = [
        "api-audiences": .audiences,
        "audit-log-maxage": .nonNegativeInteger,
        "audit-log-maxbackup": .nonNegativeInteger,
        "audit-log-maxsize": .nonNegativeInteger,
        "default-not-ready-toleration-seconds": .nonNegativeInteger,
        "default-unreachable-toleration-seconds": .nonNegativeInteger,
        "request-timeout": .positiveDuration,
        "min-request-timeout": .nonNegativeInteger,
        "max-requests-inflight": .nonNegativeInteger,
        "max-mutating-requests-inflight": .nonNegativeInteger,
        "service-account-max-token-expiration": .duration(.seconds(3600) ... .seconds(86400)),
    ]

    /// The flags an operator sets only through `aiosctl workload-identity enable/disable`.
    static let issuerFlags: Set<String> = ["service-account-issuer", "service-account-jwks-uri"]

    /// Flags whose value names a file the API server reads at start.
    static let inputFileFlags: Set<String> = [
        "admission-control-config-file", "allow-metric-labels-manifest", "audit-policy-file", "audit-webhook-config-file",
        "authentication-config", "authentication-token-webhook-config-file", "authorization-config",
        "authorization-policy-file", "authorization-webhook-config-file", "client-ca-file", "cloud-config",
        "egress-selector-config-file", "encryption-provider-config", "etcd-cafile", "etcd-certfile", "etcd-keyfile",
        "kubelet-certificate-authority", "kubelet-client-certificate", "kubelet-client-key", "oidc-ca-file",
        "peer-ca-file", "proxy-client-cert-file", "proxy-client-key-file", "requestheader-client-ca-file",
        "service-account-key-file", "service-account-signing-endpoint", "service-account-signing-key-file",
        "tls-cert-file", "tls-private-key-file", "token-auth-file", "tracing-config-file",
    ]
    /// Flags whose value names a file or directory the API server creates: its directory must be trusted.
    static let outputFileFlags: Set<String> = ["audit-log-path", "cert-dir", "debug-socket-path"]

    /// Why a flag outside the allow-list needs root, by family, for the refusal message.
    static let families: [(reason: String, matches: @Sendable (String) -> Bool)] = [
        ("it decides who can authenticate to the API server", { name in
            ["anonymous-auth", "token-auth-file", "client-ca-file", "enable-bootstrap-token-auth", "service-account-lookup",
             "service-account-key-file", "service-account-signing-key-file", "service-account-signing-endpoint",
             "service-account-extend-token-expiration"].contains(name)
                || name.hasPrefix("oidc-") || name.hasPrefix("authentication-") || name.hasPrefix("requestheader-")
        }),
        ("it decides what is authorized", { $0.hasPrefix("authorization-") }),
        ("it decides what is admitted", { ["enable-admission-plugins", "disable-admission-plugins", "admission-control-config-file",
                                          "allow-privileged"].contains($0) }),
        ("it sets TLS keys, certificates or trust", { name in
            name.hasPrefix("tls-") || name.hasPrefix("kubelet-client-") || name.hasPrefix("proxy-client-") || name.hasPrefix("etcd-")
                || ["cert-dir", "kubelet-certificate-authority", "peer-ca-file", "strict-transport-security-directives"].contains(name)
        }),
        ("it decides what is audited and where", { $0.hasPrefix("audit-") }),
        ("it enables APIs or features", { ["feature-gates", "runtime-config", "emulated-version"].contains($0) }),
        ("it decides how Secrets are encrypted at rest", { $0.hasPrefix("encryption-provider-") }),
    ]

    /// Refuses the first `set`/`unset` entry `requester` may not make. `set` holds parsed `name=value`
    /// elements; path-valued flags are checked with `files` for every requester, root included.
    public static func check(set: [APIServerArgument], unset: [String], requester: Privilege,
                             files: FileTrust = .host) throws(PolicyRefusal) {
        for argument in set {
            // A malformed element is refused as such first, whoever asks (not as "needs root").
            do {
                try argument.validate()
            } catch {
                throw PolicyRefusal(rule: "flag-syntax", kind: .invalid, message: error.description)
            }
            try checkName(argument.flagName, verb: "set", requester: requester)
            if requester < .root, let rule = operatorFlags[argument.flagName] {
                try checkValue(argument, rule: rule)
            }
            try checkFiles(argument, files: files)
        }
        for name in unset {
            try checkName(APIServerArgument(parsing: name).flagName, verb: "unset", requester: requester)
        }
    }

    static func checkName(_ flag: String, verb: String, requester: Privilege) throws(PolicyRefusal) {
        guard requester >= .operator else {
            throw PolicyRefusal(rule: "operator-level", kind: .needsPrivilege(.operator),
                                message: "a reader may not \(verb) kube-apiserver flags; operators (control.adminGroup) and root may")
        }
        guard requester < .root, operatorFlags[flag] == nil else { return }
        if issuerFlags.contains(flag) {
            throw PolicyRefusal(
                rule: "issuer-through-workload-identity", kind: .needsPrivilege(.root),
                message: "an operator may not \(verb) \(flag) directly; operators change the issuer only through workload-identity enable/disable, root (uid 0 or control.k3sAdminGroup) may \(verb) it",
                hint: "aiosctl workload-identity enable --issuer URL (or: aiosctl workload-identity disable)")
        }
        let reason = families.first { $0.matches(flag) }?.reason ?? "it is not on the operator allow-list"
        let allowed = operatorFlags.keys.sorted().joined(separator: ", ")
        throw PolicyRefusal(
            rule: "root-only-flag", kind: .needsPrivilege(.root),
            message: "an operator may not \(verb) \(flag): \(reason); only root (uid 0 or a member of control.k3sAdminGroup) may",
            hint: "operators may \(verb): \(allowed); ask root to run: aiosctl k3s apiserver-arg \(verb) \(flag)\(verb == "set" ? "=..." : "")")
    }

    static func checkValue(_ argument: APIServerArgument, rule: ValueRule) throws(PolicyRefusal) {
        let value = argument.value
        func refuse(_ expected: String) -> PolicyRefusal {
            PolicyRefusal(rule: "operator-value", kind: .needsPrivilege(.root),
                          message: "an operator may set \(argument.flagName) only to \(expected), got \"\(value)\"; root may set any value")
        }
        switch rule {
        case .nonNegativeInteger:
            guard value.count <= 10, !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw refuse("a whole number")
            }
        case .positiveDuration:
            guard let duration = DurationParser.parse(value), duration > .zero else { throw refuse("a duration such as 60s or 1m") }
        case .audiences:
            let audiences = value.split(separator: ",", omittingEmptySubsequences: false)
            guard !audiences.contains(where: { $0.isEmpty || $0.contains(where: { $0.isWhitespace }) }) else {
                throw refuse("a comma-separated list of audiences")
            }
        case .duration(let range):
            guard let duration = DurationParser.parse(value), range.contains(duration) else {
                throw refuse("a duration from \(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound))")
            }
        }
    }

    static func checkFiles(_ argument: APIServerArgument, files: FileTrust) throws(PolicyRefusal) {
        let flag = argument.flagName
        let paths: [String]
        let mayBeAbsent: Bool
        if outputFileFlags.contains(flag) {
            // `audit-log-path=-` means standard output.
            paths = flag == "audit-log-path" && argument.value == "-" ? [] : [argument.value]
            mayBeAbsent = true
        } else if inputFileFlags.contains(flag) {
            paths = [argument.value]
            mayBeAbsent = false
        } else if flag == "tls-sni-cert-key" {
            // `cert.crt,key.key` or `cert.crt,key.key:*.example.com,example.com`.
            paths = (argument.value.split(separator: ":", maxSplits: 1).first ?? "").split(separator: ",").map(String.init)
            mayBeAbsent = false
        } else {
            return
        }
        for path in paths {
            if let problem = files.problem(with: path, mayBeAbsent: mayBeAbsent) {
                throw PolicyRefusal(
                    rule: "root-owned-file", kind: .invalid,
                    message: "\(flag) names \(path), which only root may be able to write (the file, if it must exist, and every directory above it owned by root, not writable by group or others, no symbolic links); this applies to every requester, root included: \(problem)")
            }
        }
    }
}

extension APIServerFlagPolicy {
    /// The workload-identity flow sets the issuer flags itself; an operator's `--max-token-expiration` is held
    /// to the same 1h-24h bounds as `apiserver-arg set`.
    public static func checkWorkloadIdentity(maxTokenExpiration: String, requester: Privilege) throws(PolicyRefusal) {
        guard requester < .root, let rule = operatorFlags["service-account-max-token-expiration"] else { return }
        try checkValue(APIServerArgument(name: "service-account-max-token-expiration", value: maxTokenExpiration), rule: rule)
    }
}
