/// `POST /v1/workload-identity/enable` request body.
public struct WorkloadIdentityEnableRequest: Codable, Sendable, Equatable {
    public var issuer: String
    /// nil: keep one configured elsewhere, else 24h.
    public var maxTokenExpiration: String?
    /// Rewrite the agent's drop-in even though it was edited by hand since aiosd last wrote it.
    public var force: Bool?
    /// Record the change in the cluster for every server to make, one at a time (a rollout), instead of here.
    public var allServers: Bool?

    public init(issuer: String, maxTokenExpiration: String? = nil, force: Bool? = nil, allServers: Bool? = nil) {
        self.issuer = issuer
        self.maxTokenExpiration = maxTokenExpiration
        self.force = force
        self.allServers = allServers
    }
}

/// `POST /v1/workload-identity/disable` request body (optional).
public struct WorkloadIdentityDisableRequest: Codable, Sendable, Equatable {
    public var force: Bool?
    /// Record the change in the cluster for every server to make, one at a time (a rollout), instead of here.
    public var allServers: Bool?

    public init(force: Bool? = nil, allServers: Bool? = nil) {
        self.force = force
        self.allServers = allServers
    }
}

/// The outcome of a change to the agent's K3s drop-in (enable, disable): each step with its timing.
public struct K3sChangeResponse: Codable, Sendable, Equatable {
    /// False when the drop-in already said this: nothing was written and K3s was not restarted.
    public var changed: Bool
    public var dropIn: String
    public var steps: [Step]
    /// The issuer the API server serves after the change.
    public var servedIssuer: String?

    public init(changed: Bool, dropIn: String, steps: [Step], servedIssuer: String?) {
        self.changed = changed
        self.dropIn = dropIn
        self.steps = steps
        self.servedIssuer = servedIssuer
    }

    public typealias Step = JobStep
}
