/// One method of the control API: an HTTP method, a path under `/v1/`, and whether it changes state.
///
/// Every endpoint of the contract is declared here once; server routing and the client both use these values.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public let method: Method
    public let path: String
    /// Mutating requests need uid 0 or membership of the admin group (checked with SO_PEERCRED).
    public let mutating: Bool

    public init(_ method: Method, _ path: String, mutating: Bool) {
        self.method = method
        self.path = path
        self.mutating = mutating
    }

    public var description: String { "\(method.rawValue) \(path)" }
}

extension Endpoint {
    public static let version = Endpoint(.get, "/v1/version", mutating: false)
    public static let status = Endpoint(.get, "/v1/status", mutating: false)
    /// Prometheus text exposition (`text/plain; version=0.0.4`), not JSON.
    public static let metrics = Endpoint(.get, "/v1/metrics", mutating: false)
    public static let doctor = Endpoint(.get, "/v1/doctor", mutating: false)
    public static let configReload = Endpoint(.post, "/v1/config/reload", mutating: true)
    public static let systemdDaemonReload = Endpoint(.post, "/v1/systemd/daemon-reload", mutating: true)
    public static let k3sRestart = Endpoint(.post, "/v1/k3s/restart", mutating: true)
    public static let k3sConfig = Endpoint(.get, "/v1/k3s/config", mutating: false)
    public static let apiServerArgs = Endpoint(.get, "/v1/k3s/apiserver-args", mutating: false)
    public static let apiServerArgsEdit = Endpoint(.post, "/v1/k3s/apiserver-args", mutating: true)
    public static let jobs = Endpoint(.get, "/v1/jobs", mutating: false)
    /// `/v1/jobs/{id}`: a path with a parameter.
    public static let job = Endpoint(.get, "/v1/jobs/{id}", mutating: false)
    public static let workloadIdentityStatus = Endpoint(.get, "/v1/workload-identity", mutating: false)
    public static let workloadIdentityEnable = Endpoint(.post, "/v1/workload-identity/enable", mutating: true)
    public static let workloadIdentityDisable = Endpoint(.post, "/v1/workload-identity/disable", mutating: true)

    public static let secrets = Endpoint(.get, "/v1/secrets", mutating: false)
    public static let secret = Endpoint(.get, "/v1/secrets/{name}", mutating: false)
    public static let secretAdd = Endpoint(.post, "/v1/secrets", mutating: true)
    public static let secretRemove = Endpoint(.post, "/v1/secrets/{name}/remove", mutating: true)
    public static let sync = Endpoint(.post, "/v1/sync", mutating: true)

    public static let all: [Endpoint] = [
        .version, .status, .metrics, .doctor, .configReload, .systemdDaemonReload, .k3sRestart, .k3sConfig, .workloadIdentityStatus,
        .workloadIdentityEnable, .workloadIdentityDisable, .apiServerArgs, .apiServerArgsEdit,
        .jobs, .job, .secrets, .secret, .secretAdd, .secretRemove, .sync,
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
