/// `POST /v1/systemd/daemon-reload` and `POST /v1/k3s/restart`: what systemd did and the unit's state after it.
public struct HostOperationResponse: Codable, Sendable, Equatable {
    public var operation: String
    public var unit: String?
    /// The systemd job, and its result from JobRemoved (done, failed, timeout, ...).
    public var job: String?
    public var result: String
    public var activeState: String?
    public var subState: String?
    /// The service's own Result (success, exit-code, signal, timeout, watchdog, start-limit, ...).
    public var serviceResult: String?
    public var mainPID: UInt32?
    public var restarts: UInt32?
    public var durationSeconds: Double

    public init(operation: String, unit: String? = nil, job: String? = nil, result: String, activeState: String? = nil,
                subState: String? = nil, serviceResult: String? = nil, mainPID: UInt32? = nil, restarts: UInt32? = nil,
                durationSeconds: Double) {
        self.operation = operation
        self.unit = unit
        self.job = job
        self.result = result
        self.activeState = activeState
        self.subState = subState
        self.serviceResult = serviceResult
        self.mainPID = mainPID
        self.restarts = restarts
        self.durationSeconds = durationSeconds
    }
}
