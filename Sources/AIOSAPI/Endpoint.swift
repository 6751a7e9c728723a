/// One method of the control API: an HTTP method, a path under `/v1/`, and the level a caller needs.
///
/// Every endpoint of the contract is declared here once, with its level; server routing, authorization and
/// the client all use these values.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public let method: Method
    public let path: String
    /// The least a caller must be (from SO_PEERCRED); the server refuses anyone below it before the handler runs.
    public let level: AccessLevel

    public init(_ method: Method, _ path: String, level: AccessLevel) {
        self.method = method
        self.path = path
        self.level = level
    }

    /// Changes state: needs more than a reader, and is written to the journal with who asked.
    public var mutating: Bool { level > .reader }

    public var description: String { "\(method.rawValue) \(path)" }
}

extension Endpoint {
    public static let version = Endpoint(.get, "/v1/version", level: .reader)
    public static let status = Endpoint(.get, "/v1/status", level: .reader)
    /// Prometheus text exposition (`text/plain; version=0.0.4`), not JSON.
    public static let metrics = Endpoint(.get, "/v1/metrics", level: .reader)
    public static let doctor = Endpoint(.get, "/v1/doctor", level: .reader)
    public static let configReload = Endpoint(.post, "/v1/config/reload", level: .operator)
    public static let systemdDaemonReload = Endpoint(.post, "/v1/systemd/daemon-reload", level: .operator)
    public static let k3sRestart = Endpoint(.post, "/v1/k3s/restart", level: .operator)
    public static let k3sConfig = Endpoint(.get, "/v1/k3s/config", level: .reader)
    public static let apiServerArgs = Endpoint(.get, "/v1/k3s/apiserver-args", level: .reader)
    public static let apiServerArgsEdit = Endpoint(.post, "/v1/k3s/apiserver-args", level: .operator)
    public static let k3sRollout = Endpoint(.get, "/v1/k3s/rollout", level: .reader)
    /// Stops the running rollout: no further server starts its turn.
    public static let k3sRolloutAbort = Endpoint(.post, "/v1/k3s/rollout/abort", level: .operator)
    public static let jobs = Endpoint(.get, "/v1/jobs", level: .reader)
    /// `/v1/jobs/{id}`: a path with a parameter.
    public static let job = Endpoint(.get, "/v1/jobs/{id}", level: .reader)
    public static let workloadIdentityStatus = Endpoint(.get, "/v1/workload-identity", level: .reader)
    public static let workloadIdentityEnable = Endpoint(.post, "/v1/workload-identity/enable", level: .operator)
    public static let workloadIdentityDisable = Endpoint(.post, "/v1/workload-identity/disable", level: .operator)

    public static let secrets = Endpoint(.get, "/v1/secrets", level: .reader)
    public static let secret = Endpoint(.get, "/v1/secrets/{name}", level: .reader)
    public static let secretAdd = Endpoint(.post, "/v1/secrets", level: .operator)
    public static let secretRemove = Endpoint(.post, "/v1/secrets/{name}/remove", level: .operator)
    public static let sync = Endpoint(.post, "/v1/sync", level: .operator)
    /// Every node's aiosd (heartbeat Leases) and the sync leader.
    public static let cluster = Endpoint(.get, "/v1/cluster", level: .reader)

    public static let all: [Endpoint] = [
        .version, .status, .metrics, .doctor, .configReload, .systemdDaemonReload, .k3sRestart, .k3sConfig, .workloadIdentityStatus,
        .workloadIdentityEnable, .workloadIdentityDisable, .apiServerArgs, .apiServerArgsEdit,
        .jobs, .job, .secrets, .secret, .secretAdd, .secretRemove, .sync, .cluster,
        .k3sRollout, .k3sRolloutAbort,
    ]

    /// The path parameters if `path` matches this endpoint's pattern (`{name}` matches one segment).
    public func match(_ path: String) -> [String: String]? {
        let pattern = self.path.split(separator: "/", omittingEmptySubsequences: false)
        let actual = path.split(separator: "/", omittingEmptySubsequences: false)
        guard pattern.count == actual.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, given) in zip(pattern, actual) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                guard !given.isEmpty else { return nil }
                parameters[String(expected.dropFirst().dropLast())] = String(given)
            } else if expected != given {
                return nil
            }
        }
        return parameters
    }

    /// `path` with its parameters filled in.
    public func path(_ parameters: [String: String]) -> String {
        self.path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? parameters[String(segment.dropFirst().dropLast())] ?? "" : String(segment)
        }.joined(separator: "/")
    }
}
