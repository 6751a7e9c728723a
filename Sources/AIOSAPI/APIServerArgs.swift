/// `GET /v1/k3s/apiserver-args`: the agent's own entries and every kube-apiserver-arg in effect.
public struct APIServerArgsResponse: Codable, Sendable, Equatable {
    public var dropIn: String
    /// `name=value`, in the order of the agent's drop-in.
    public var agent: [String]
    public var effective: [K3sConfigResponse.Value]

    public init(dropIn: String, agent: [String], effective: [K3sConfigResponse.Value]) {
        self.dropIn = dropIn
        self.agent = agent
        self.effective = effective
    }
}

/// `POST /v1/k3s/apiserver-args`: set flags (`name=value`, a flag given several times keeps every value) and
/// unset flags (names) in the agent's drop-in, then restart and verify K3s. Answers `K3sChangeResponse`.
public struct APIServerArgsEditRequest: Codable, Sendable, Equatable {
    public var set: [String]
    public var unset: [String]
    /// Rewrite the agent's drop-in even though it was edited by hand since aiosd last wrote it.
    public var force: Bool?
    /// Record the change in the cluster for every server to make, one at a time (a rollout), instead of here.
    public var allServers: Bool?

    public init(set: [String] = [], unset: [String] = [], force: Bool? = nil, allServers: Bool? = nil) {
        self.set = set
        self.unset = unset
        self.force = force
        self.allServers = allServers
    }
}
