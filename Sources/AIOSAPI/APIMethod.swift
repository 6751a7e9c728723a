/// A method of the control API with the types it speaks: the body it takes and the JSON it answers.
///
/// The `Endpoint` (method, path, level) says where and who; `APIMethod` says what. Each method is declared once,
/// in `API` below; the client (`ControlClient.call(API.x)`) and the daemon's handlers (`APIMethodHandler`) take
/// the types from here, so the compiler keeps both sides on one contract, and the golden-JSON tests pin the wire.
public struct APIMethod<Request: Codable & Sendable, Response: Codable & Sendable>: AnyAPIMethod {
    public let endpoint: Endpoint
    /// The body may be left out (the server reads it as `{}`).
    public let bodyOptional: Bool
    /// What the method streams with `Accept: application/x-ndjson`.
    public let events: APIEvents

    public init(_ endpoint: Endpoint, bodyOptional: Bool = true, events: APIEvents = .none) {
        self.endpoint = endpoint
        self.bodyOptional = bodyOptional
        self.events = events
    }

    public var requestType: any (Codable & Sendable).Type { Request.self }
    public var responseType: any (Codable & Sendable).Type { Response.self }
}

/// A method without its types, for tables over every method (routing checks, golden tests, documentation).
public protocol AnyAPIMethod: Sendable {
    var endpoint: Endpoint { get }
    var bodyOptional: Bool { get }
    var events: APIEvents { get }
    var requestType: any (Codable & Sendable).Type { get }
    var responseType: any (Codable & Sendable).Type { get }
}

/// The NDJSON progress a method streams when asked.
public enum APIEvents: String, Sendable {
    case none
    /// `JobEvent`s; the last (`finished`) carries the method's response as a JSON string.
    case job
    /// `SyncEvent`s; the last (`finished`) carries the `SyncResponse`.
    case sync
}

/// No body: a GET, or a POST that takes nothing.
public struct NoRequest: Codable, Sendable, Equatable {
    public init() {}
}

/// A response that is not JSON: the Prometheus text exposition of `GET /v1/metrics`.
public struct PlainText: Codable, Sendable, Equatable {
    public var text: String

    public init(_ text: String) { self.text = text }

    public init(from decoder: any Decoder) throws { text = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// Every method of the control API, with its types. To add one: an `Endpoint` (path and level), a line here and
/// in `all`, a handler conforming to `APIMethodHandler`, an example value and golden file in AIOSAPITests, and
/// its row in README's API table (a test checks the row against the golden file).
public enum API {
    public static let version = APIMethod<NoRequest, VersionResponse>(.version)
    public static let status = APIMethod<NoRequest, StatusResponse>(.status)
    public static let metrics = APIMethod<NoRequest, PlainText>(.metrics)
    public static let doctor = APIMethod<NoRequest, DoctorResponse>(.doctor)
    public static let configReload = APIMethod<NoRequest, ConfigReloadResponse>(.configReload)
    public static let systemdDaemonReload = APIMethod<NoRequest, HostOperationResponse>(.systemdDaemonReload, events: .job)
    public static let k3sRestart = APIMethod<NoRequest, HostOperationResponse>(.k3sRestart, events: .job)
    public static let k3sConfig = APIMethod<NoRequest, K3sConfigResponse>(.k3sConfig)
    public static let apiServerArgs = APIMethod<NoRequest, APIServerArgsResponse>(.apiServerArgs)
    public static let apiServerArgsEdit = APIMethod<APIServerArgsEditRequest, K3sChangeResponse>(.apiServerArgsEdit, bodyOptional: false, events: .job)
    public static let jobs = APIMethod<NoRequest, [JobRecord]>(.jobs)
    public static let job = APIMethod<NoRequest, JobRecord>(.job)
    public static let workloadIdentityStatus = APIMethod<NoRequest, WorkloadIdentityStatusResponse>(.workloadIdentityStatus)
    public static let workloadIdentityEnable = APIMethod<WorkloadIdentityEnableRequest, K3sChangeResponse>(
        .workloadIdentityEnable, bodyOptional: false, events: .job)
    public static let workloadIdentityDisable = APIMethod<WorkloadIdentityDisableRequest, K3sChangeResponse>(.workloadIdentityDisable, events: .job)
    public static let secrets = APIMethod<NoRequest, SecretListResponse>(.secrets)
    public static let secret = APIMethod<NoRequest, SecretShowResponse>(.secret)
    public static let secretAdd = APIMethod<SecretAddRequest, SecretAddResponse>(.secretAdd, bodyOptional: false)
    public static let secretRemove = APIMethod<SecretRemoveRequest, SecretRemoveResponse>(.secretRemove)
    public static let sync = APIMethod<SyncRequest, SyncResponse>(.sync, events: .sync)
    public static let cluster = APIMethod<NoRequest, ClusterResponse>(.cluster)
    public static let k3sRollout = APIMethod<NoRequest, K3sRolloutResponse>(.k3sRollout)
    public static let k3sRolloutAbort = APIMethod<NoRequest, K3sRolloutResponse>(.k3sRolloutAbort)

    public static let all: [any AnyAPIMethod] = [
        version, status, metrics, doctor, configReload, systemdDaemonReload, k3sRestart, k3sConfig, apiServerArgs, apiServerArgsEdit,
        jobs, job, workloadIdentityStatus, workloadIdentityEnable, workloadIdentityDisable, secrets, secret, secretAdd, secretRemove, sync,
        cluster, k3sRollout, k3sRolloutAbort,
    ]

    /// The typed method of `endpoint`.
    public static func method(of endpoint: Endpoint) -> (any AnyAPIMethod)? {
        all.first { $0.endpoint == endpoint }
    }
}

extension API {
    // The K3s changes asked with `allServers`: the same endpoints, but the reply is the rollout recorded for every
    // server (`K3sRolloutResponse`, as `k3sRollout` answers), not a job. Not in `all`: one row per endpoint there.
    public static let apiServerArgsEditAllServers = APIMethod<APIServerArgsEditRequest, K3sRolloutResponse>(.apiServerArgsEdit, bodyOptional: false)
    public static let workloadIdentityEnableAllServers = APIMethod<WorkloadIdentityEnableRequest, K3sRolloutResponse>(
        .workloadIdentityEnable, bodyOptional: false)
    public static let workloadIdentityDisableAllServers = APIMethod<WorkloadIdentityDisableRequest, K3sRolloutResponse>(.workloadIdentityDisable)
}
