import FoundationEssentials

/// A host job (a K3s restart, a workload-identity change, ...): one runs at a time, the others queue.
/// Recent jobs are kept in /var/lib/aiosd and survive a restart of aiosd.
public struct JobRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case queued, running, succeeded, failed, interrupted }

    public var id: String
    /// e.g. `k3s-restart`, `workload-identity-enable`.
    public var kind: String
    public var state: State
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var steps: [JobStep]
    public var error: APIError?
    /// On failure: K3s' last journal lines, which usually say why.
    public var k3sJournal: [String]?

    public init(id: String, kind: String, state: State, queuedAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil,
                steps: [JobStep] = [], error: APIError? = nil, k3sJournal: [String]? = nil) {
        self.id = id
        self.kind = kind
        self.state = state
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.steps = steps
        self.error = error
        self.k3sJournal = k3sJournal
    }
}

public struct JobStep: Codable, Sendable, Equatable {
    public var name: String
    public var ok: Bool
    public var seconds: Double
    public var detail: String?

    public init(name: String, ok: Bool, seconds: Double, detail: String? = nil) {
        self.name = name
        self.ok = ok
        self.seconds = seconds
        self.detail = detail
    }
}

/// One line of a job's NDJSON progress stream (`Accept: application/x-ndjson` on a job endpoint).
/// The last event is `finished`, carrying the job and, on success, the endpoint's usual response as `response`.
/// `StreamKeepAlive` lines come between events while a step reports nothing.
public struct JobEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case queued, started, stepStarted, step, finished }

    public var event: Kind
    public var job: String
    /// With `queued`: jobs ahead of this one.
    public var position: Int?
    /// With `stepStarted`: the step's name; with `step`: the finished step.
    public var stepName: String?
    public var step: JobStep?
    /// With `finished`.
    public var record: JobRecord?
    public var response: String?

    public init(event: Kind, job: String, position: Int? = nil, stepName: String? = nil, step: JobStep? = nil,
                record: JobRecord? = nil, response: String? = nil) {
        self.event = event
        self.job = job
        self.position = position
        self.stepName = stepName
        self.step = step
        self.record = record
        self.response = response
    }

    public static let contentType = "application/x-ndjson"
}
