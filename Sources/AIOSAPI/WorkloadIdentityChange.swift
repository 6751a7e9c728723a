/// `POST /v1/workload-identity/enable` request body.
public struct WorkloadIdentityEnableRequest: Codable, Sendable, Equatable {
    public var issuer: String
    public var maxTokenExpiration: String?

    public init(issuer: String, maxTokenExpiration: String? = nil) {
        self.issuer = issuer
        self.maxTokenExpiration = maxTokenExpiration
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
