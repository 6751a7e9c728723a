/// The narrow views of the host the K3s change workflow needs, injected so every path of the workflow runs in a
/// unit test with fakes and on a host with systemd, the K3s API server and the real file system.

/// The K3s systemd unit as systemd has it loaded.
public struct K3sUnitDescription: Sendable, Equatable {
    public var name: String
    /// The first `ExecStart=` command, argv[0] included.
    public var commandLine: [String]
    /// `Environment=` assignments (`NAME=value`), in order.
    public var environment: [String]
    /// `EnvironmentFile=` paths, in order (a leading `-` already removed).
    public var environmentFiles: [String]

    public init(name: String, commandLine: [String], environment: [String] = [], environmentFiles: [String] = []) {
        self.name = name
        self.commandLine = commandLine
        self.environment = environment
        self.environmentFiles = environmentFiles
    }

    /// `server` or `agent`: the first word after the program that is not a flag (nil if there is none).
    public var subcommand: String? { commandLine.dropFirst().first { !$0.hasPrefix("-") } }
}

/// What a restart of the unit ended with.
public struct K3sRestartOutcome: Sendable, Equatable {
    public var succeeded: Bool
    /// `job done, pid 42` or systemd's verdict (`job failed, unit failed/failed, result exit-code`).
    public var detail: String

    public init(succeeded: Bool, detail: String) {
        self.succeeded = succeeded
        self.detail = detail
    }
}

/// systemd, for K3s' unit.
public protocol K3sUnitControl: Sendable {
    /// The unit, or nil when systemd does not know it (not installed).
    func describe(_ unit: String) throws(K3sChangeError) -> K3sUnitDescription?
    /// `RestartUnit(unit, "replace")` and the job's result, waiting at most `timeout`.
    func restart(_ unit: String, timeout: Duration) throws(K3sChangeError) -> K3sRestartOutcome
    /// The kube-apiserver arguments K3s logged at its last start (`Running kube-apiserver --a=b ...`), nil if none.
    func runningAPIServerArguments(_ unit: String) -> [String]?
}

/// The K3s API server, asked with K3s' admin credentials (read again each time: K3s rewrites them at start).
public protocol K3sAPIServerProbe: Sendable {
    /// `GET /readyz` answered `ok`.
    func isReady() -> Bool
    /// The issuer of `/.well-known/openid-configuration`.
    func servedIssuer() throws(K3sChangeError) -> String
}

/// The files the workflow reads and writes: K3s' configuration and aiosd's own records.
public protocol K3sFileAccess: Sendable {
    /// The text, or nil if absent. A symlinked configuration file is followed only to a root-owned target that
    /// group and others cannot write, as K3s itself would read it.
    func read(_ path: String) throws(K3sChangeError) -> String?
    /// Names of regular files in `directory` (empty if it does not exist).
    func list(_ directory: String) -> [String]
    /// Atomically replaces `path` (creating its directory), mode 0600.
    func write(_ text: String, to path: String) throws(K3sChangeError)
    func remove(_ path: String) throws(K3sChangeError)
    /// Why `directory` (or its nearest existing parent) cannot be written, or nil if it can.
    func unwritableReason(_ directory: String) -> String?
}

/// Progress of a change, for the job that runs it.
public protocol K3sChangeObserver: Sendable {
    func stepStarted(_ name: String)
    func stepFinished(_ step: K3sChangeStep)
    /// K3s failed a step after a restart: keep its journal before the rollback restarts it again.
    func k3sFailed()
}

/// One step of a change, with how long it took.
public struct K3sChangeStep: Sendable, Equatable {
    public var name: String
    public var ok: Bool
    public var seconds: Double
    public var detail: String?

    public init(name: String, ok: Bool, seconds: Double, detail: String?) {
        self.name = name
        self.ok = ok
        self.seconds = seconds
        self.detail = detail
    }
}

/// Why a K3s change did not happen or did not succeed; the daemon maps the kind to its wire error.
public struct K3sChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Refused before anything was touched.
        case refused
        /// K3s' own configuration cannot be read or would not be accepted.
        case invalidConfiguration
        /// A step failed (the message says whether the rollback worked).
        case failed
        /// systemd could not be asked.
        case systemd
        case `internal`
    }

    public var kind: Kind
    public var message: String
    public var hint: String?
    /// For a step that failed after the write: whether the previous configuration was restored and verified.
    public var rolledBack: Bool?

    public init(_ kind: Kind, _ message: String, hint: String? = nil, rolledBack: Bool? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.rolledBack = rolledBack
    }

    public var description: String { message }
}
