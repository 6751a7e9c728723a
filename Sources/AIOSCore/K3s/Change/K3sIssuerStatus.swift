/// Workload identity as configured (what K3s will run with), as running (what K3s started its API server with,
/// from its `Running kube-apiserver` log line) and as served (the discovery document).
public struct K3sIssuerStatus: Sendable, Equatable {
    public struct Value: Sendable, Equatable {
        public var value: String
        /// `file:line`, `ExecStart of k3s.service` or `K3s default`.
        public var from: String

        public init(value: String, from: String) {
            self.value = value
            self.from = from
        }
    }

    public var configuredIssuers: [Value]
    public var maxTokenExpiration: Value?
    /// nil when K3s' journal has no start of the API server.
    public var runningIssuers: [String]?
    public var runningMaxTokenExpiration: String?
    public var servedIssuer: String?
    public var servedIssuerError: String?

    /// The configuration differs from what the API server was started with: a restart of K3s would apply it.
    public var restartPending: Bool {
        guard let runningIssuers else { return false }
        return runningIssuers != configuredIssuers.map(\.value) || runningMaxTokenExpiration != maxTokenExpiration?.value
    }
}

extension K3sChangeWorkflow {
    /// The issuer as configured, running and served.
    public func issuerStatus() throws(K3sChangeError) -> K3sIssuerStatus {
        let run = try runConfiguration()
        let effective = try run.effective()
        let parsed = (effective.setting("kube-apiserver-arg")?.values ?? []).map { (value: $0, argument: APIServerArgument(parsing: $0.value)) }
        var configured = parsed.filter { $0.argument.flagName == WorkloadIdentityPlanner.issuerFlag }
            .map { K3sIssuerStatus.Value(value: $0.argument.value, from: $0.value.location) }
        let issuers = KubeAPIServerArguments.issuers(configured: effective)
        if configured.map(\.value) != issuers {
            // `+`/`-` forms or none at all: K3s' default takes its place in the list.
            configured = issuers.map { issuer in
                configured.first { $0.value == issuer } ?? K3sIssuerStatus.Value(value: issuer, from: "K3s default")
            }
        }
        let expiration = parsed.last { $0.argument.flagName == WorkloadIdentityPlanner.expirationFlag }
            .map { K3sIssuerStatus.Value(value: $0.argument.value, from: $0.value.location) }
        let running = unit.runningAPIServerArguments(Self.unitName).map { $0.map { APIServerArgument(parsing: $0) } }
        var served: String?
        var servedError: String?
        do { served = try probe.servedIssuer() } catch { servedError = error.message }
        return K3sIssuerStatus(
            configuredIssuers: configured, maxTokenExpiration: expiration,
            runningIssuers: running.map { $0.filter { $0.flagName == WorkloadIdentityPlanner.issuerFlag }.map(\.value) },
            runningMaxTokenExpiration: running?.last { $0.flagName == WorkloadIdentityPlanner.expirationFlag }?.value,
            servedIssuer: served, servedIssuerError: servedError)
    }
}
