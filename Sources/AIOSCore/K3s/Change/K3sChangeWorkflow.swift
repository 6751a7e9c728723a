import FoundationEssentials

/// The one way aiosd changes K3s: plan against what K3s will run with, record, write the agent's drop-in
/// atomically, restart, wait for /readyz, verify the served issuer; on a failure after the write restore the
/// previous file and verify K3s is back; a record under the state directory lets the next start of aiosd finish
/// a change a crash interrupted. Blocking; every wait is bounded by `readyTimeout`.
public struct K3sChangeWorkflow: Sendable {
    public static let unitName = "k3s.service"
    public static let agentUnitName = "k3s-agent.service"

    public let unit: K3sUnitControl
    public let probe: K3sAPIServerProbe
    public let files: K3sFileAccess
    public let stateDirectory: String
    /// Restart plus readiness plus verification of one restart of K3s, each phase's whole budget.
    public let readyTimeout: Duration
    public let pollInterval: Duration

    public init(unit: K3sUnitControl, probe: K3sAPIServerProbe, files: K3sFileAccess, stateDirectory: String,
                readyTimeout: Duration, pollInterval: Duration = .milliseconds(500)) {
        self.unit = unit
        self.probe = probe
        self.files = files
        self.stateDirectory = stateDirectory
        self.readyTimeout = readyTimeout
        self.pollInterval = pollInterval
    }

    /// A change in progress, kept until it is verified or rolled back.
    struct Record: Codable {
        var path: String
        /// nil: the drop-in did not exist before.
        var previous: String?
        var startedAt: Date
        /// Set once K3s serves the change, before the record is removed: a crash in between keeps the change.
        var verifiedAt: Date?
    }

    public var recordPath: String { stateDirectory + "/k3s-transaction.json" }
    /// The drop-in's text as aiosd last wrote it, to tell hand edits from its own.
    public var lastWrittenPath: String { stateDirectory + "/k3s-dropin.last" }

    public struct Outcome: Sendable, Equatable {
        /// False when nothing needed to change: nothing written, K3s not restarted.
        public var changed: Bool
        public var dropIn: String
        public var steps: [K3sChangeStep]
        public var servedIssuer: String?
    }

    // MARK: - What K3s will run with

    /// The K3s server on this host and the configuration it will start with; refused when there is none.
    public func runConfiguration() throws(K3sChangeError) -> K3sRunConfiguration {
        guard let description = try unit.describe(Self.unitName) else {
            if (try? unit.describe(Self.agentUnitName)) != nil {
                throw K3sChangeError(.refused, "this host is a K3s agent (worker) node: \(Self.agentUnitName) runs no API server",
                                     hint: "run aiosctl on a K3s server node")
            }
            throw K3sChangeError(.refused, "K3s is not installed: systemd has no \(Self.unitName)",
                                 hint: "install K3s as a server (https://docs.k3s.io/quick-start), then try again")
        }
        if description.subcommand != "server" {
            throw K3sChangeError(.refused, "\(Self.unitName) runs `k3s \(description.subcommand ?? "")`, not `k3s server`: this node has no API server to change",
                                 hint: "run aiosctl on a K3s server node")
        }
        return try K3sRunConfiguration.read(unit: description, files: files)
    }

    // MARK: - Changes

    /// `workload-identity enable`: `issuer` first, the issuer served until now second, and the token lifetime.
    /// `maxTokenExpiration` nil keeps one configured elsewhere, else 24h.
    public func enableWorkloadIdentity(issuer: String, maxTokenExpiration: String?, force: Bool,
                                       observer: K3sChangeObserver) throws(K3sChangeError) -> Outcome {
        try change(force: force, observer: observer) { (run, current) throws(K3sChangeError) in
            do throws(WorkloadIdentityPlanner.Refusal) {
                return try WorkloadIdentityPlanner().enable(issuer: issuer, maxTokenExpiration: maxTokenExpiration,
                                                            run: run, dropIn: current)
            } catch {
                throw K3sChangeError(.refused, error.description)
            }
        }
    }

    /// `workload-identity disable`: the agent's issuer and token-lifetime entries go; its other entries stay.
    public func disableWorkloadIdentity(force: Bool, observer: K3sChangeObserver) throws(K3sChangeError) -> Outcome {
        try change(force: force, observer: observer) { (_, current) throws(K3sChangeError) in
            current.filter { $0.flagName != WorkloadIdentityPlanner.issuerFlag && $0.flagName != WorkloadIdentityPlanner.expirationFlag }
        }
    }

    /// `k3s apiserver-arg set/unset`.
    public func editAPIServerArguments(set: [APIServerArgument], unset: [String], force: Bool,
                                       observer: K3sChangeObserver) throws(K3sChangeError) -> Outcome {
        try change(force: force, observer: observer) { (_, current) throws(K3sChangeError) in
            do throws(WorkloadIdentityPlanner.Refusal) {
                return try WorkloadIdentityPlanner.edit(dropIn: current, set: set, unset: unset) ?? current
            } catch {
                throw K3sChangeError(.refused, error.description)
            }
        }
    }

    /// Plans with `plan` (the agent's wanted arguments from the current ones), refuses what K3s would not take
    /// or what would not reach the API server, then writes, restarts and verifies.
    private func change(force: Bool, observer: K3sChangeObserver,
                        plan: (K3sRunConfiguration, [APIServerArgument]) throws(K3sChangeError) -> [APIServerArgument]) throws(K3sChangeError) -> Outcome {
        let run = try runConfiguration()
        let path = run.agentDropInPath
        let previous = run.agentDropInText
        let current = try AgentDropInOwnership.arguments(in: previous, path: path, lastWritten: try files.read(lastWrittenPath), force: force)
        _ = try run.effective()  // K3s must accept the files as they are before the agent adds to them
        let wanted = try plan(run, current)
        let text = wanted.isEmpty ? nil : AgentDropIn.render(wanted)
        guard text != previous else { return Outcome(changed: false, dropIn: path, steps: [], servedIssuer: nil) }
        if text != nil { try Self.ensureDropInTakesEffect(run) }
        let issuers = try run.issuers(withAgentDropIn: text)
        if let duplicate = KubeAPIServerArguments.duplicate(in: issuers) {
            throw K3sChangeError(.refused, "kube-apiserver would refuse service-account-issuer \(duplicate) given twice (\"already specified\"); configured in order: \(issuers.joined(separator: ", "))",
                                 hint: "remove the duplicate from the other K3s configuration files")
        }
        if let reason = files.unwritableReason(run.dropInDirectory) {
            throw K3sChangeError(.refused, "aiosd cannot write \(run.dropInDirectory): \(reason)",
                                 hint: "aiosd.service may write only below /etc/rancher/k3s (ReadWritePaths=); for another K3s configuration directory add it with: systemctl edit aiosd.service")
        }
        var transaction = K3sChangeTransaction(workflow: self, observer: observer, path: path)
        let served = try transaction.apply(text, previous: previous, expected: issuers[0], run: run)
        return Outcome(changed: true, dropIn: path, steps: transaction.steps, servedIssuer: served)
    }

    /// Refuses when the agent's drop-in would not reach the API server: K3s' command line or environment sets
    /// `kube-apiserver-arg` (overriding every file), or a file read after it sets the list without `+`.
    static func ensureDropInTakesEffect(_ run: K3sRunConfiguration) throws(K3sChangeError) {
        let effective = try run.effective(withAgentDropIn: nil)
        if let flag = effective.setting("kube-apiserver-arg")?.values.first(where: { $0.source.kind != .file }) {
            throw K3sChangeError(.refused, "kube-apiserver-arg is set on K3s' command line (\(flag.location)), which overrides every configuration file",
                                 hint: "move those flags to \(run.configPath) first")
        }
        for file in run.files where file.path > run.agentDropInPath && file.path.hasPrefix(run.dropInDirectory + "/") {
            let entries: [K3sConfigMerger.Entry]
            do { entries = try K3sConfigMerger().entries(of: file.text, path: file.path) } catch {
                throw K3sChangeError(.invalidConfiguration, "K3s would not accept its configuration: \(error)")
            }
            if entries.contains(where: { $0.key == "kube-apiserver-arg" }) {
                throw K3sChangeError(.refused, "\(file.path) sets kube-apiserver-arg without '+' and is read after \(run.agentDropInPath), so it would replace the agent's entries",
                                     hint: "use 'kube-apiserver-arg+:' in \(file.path)")
            }
        }
    }

    // MARK: - Recovery

    public struct Recovery: Sendable, Equatable {
        public var path: String
        public var succeeded: Bool
        /// True when the change had been verified before the crash and was kept (nothing written, no restart).
        public var keptVerifiedChange: Bool = false
        public var message: String
    }

    /// Finishes a change a crash interrupted: a verified change is kept as it is; otherwise the previous drop-in
    /// is restored and K3s restarted and verified. nil when there was nothing to recover.
    public func recoverInterruptedChange(observer: K3sChangeObserver) -> Recovery? {
        guard let text = try? files.read(recordPath) else { return nil }
        defer { try? files.remove(recordPath) }
        guard let record = try? Self.decoder.decode(Record.self, from: Data(text.utf8)) else {
            return Recovery(path: recordPath, succeeded: false, message: "unreadable transaction record removed")
        }
        if record.verifiedAt != nil {
            return Recovery(path: record.path, succeeded: true, keptVerifiedChange: true,
                            message: "the change to \(record.path) was verified before aiosd stopped; it is kept and K3s was not restarted")
        }
        var transaction = K3sChangeTransaction(workflow: self, observer: observer, path: record.path)
        do {
            try transaction.write(record.previous, stepName: "restore \(record.path)")
            transaction.rememberWritten(record.previous)
            let run = try runConfiguration()
            let served = try transaction.restartAndVerify(expected: try run.servedIssuer(withAgentDropIn: record.previous), prefix: "")
            return Recovery(path: record.path, succeeded: true, message: "the previous \(record.path) is restored and the API server serves \(served)")
        } catch {
            return Recovery(path: record.path, succeeded: false, message: error.message)
        }
    }

    func writeRecord(_ record: Record) throws(K3sChangeError) {
        guard let data = try? Self.encoder.encode(record) else {
            throw K3sChangeError(.internal, "cannot encode the transaction record")
        }
        try files.write(String(decoding: data, as: UTF8.self), to: recordPath)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// One change's steps: record, write, restart, wait, verify; on a failure after the write, the same backwards.
struct K3sChangeTransaction {
    let workflow: K3sChangeWorkflow
    let observer: K3sChangeObserver
    let path: String
    private(set) var steps: [K3sChangeStep] = []

    init(workflow: K3sChangeWorkflow, observer: K3sChangeObserver, path: String) {
        self.workflow = workflow
        self.observer = observer
        self.path = path
    }

    mutating func apply(_ text: String?, previous: String?, expected: String, run: K3sRunConfiguration) throws(K3sChangeError) -> String {
        let workflow = self.workflow
        var record = K3sChangeWorkflow.Record(path: path, previous: previous, startedAt: Date())
        try step("record transaction") { () throws(K3sChangeError) in
            try workflow.writeRecord(record)
            return nil
        }
        do {
            try write(text, stepName: "write \(path)")
        } catch {
            // The write is atomic: nothing changed, so nothing is restarted.
            try? workflow.files.remove(workflow.recordPath)
            throw K3sChangeError(.failed, "\(error.message); nothing was changed and K3s was not restarted", hint: error.hint)
        }
        rememberWritten(text)
        do {
            let served = try restartAndVerify(expected: expected, prefix: "")
            // Atomically, before the removal: a crash in between must not roll the verified change back.
            record.verifiedAt = Date()
            try? workflow.writeRecord(record)
            try? workflow.files.remove(workflow.recordPath)
            return served
        } catch {
            let failure = error
            observer.k3sFailed()
            let rollback: String
            var rolledBack = false
            do {
                try write(previous, stepName: "rollback: restore \(path)")
                rememberWritten(previous)
                let served = try restartAndVerify(expected: try run.servedIssuer(withAgentDropIn: previous), prefix: "rollback: ")
                rollback = "rolled back: the previous \(path) is restored and the API server serves \(served) again"
                rolledBack = true
            } catch {
                rollback = "the rollback failed too: \(error.message)"
            }
            try? workflow.files.remove(workflow.recordPath)
            throw K3sChangeError(.failed, "\(failure.message); \(rollback)", hint: "journalctl -u \(K3sChangeWorkflow.unitName) -n 50",
                                 rolledBack: rolledBack)
        }
    }

    /// Keeps what the drop-in now says as aiosd's own text (nil: removed), for drift detection.
    func rememberWritten(_ text: String?) {
        if let text { try? workflow.files.write(text, to: workflow.lastWrittenPath) } else { try? workflow.files.remove(workflow.lastWrittenPath) }
    }

    mutating func write(_ text: String?, stepName: String) throws(K3sChangeError) {
        let files = workflow.files, path = self.path
        try step(stepName) { () throws(K3sChangeError) in
            if let text { try files.write(text, to: path) } else { try files.remove(path) }
            return nil
        }
    }

    /// Restarts K3s, waits for /readyz and checks the served issuer, all within one `readyTimeout`.
    mutating func restartAndVerify(expected: String, prefix: String) throws(K3sChangeError) -> String {
        let workflow = self.workflow
        let deadline = ContinuousClock.now + workflow.readyTimeout
        try step(prefix + "restart \(K3sChangeWorkflow.unitName)") { () throws(K3sChangeError) in
            let outcome = try workflow.unit.restart(K3sChangeWorkflow.unitName, timeout: workflow.readyTimeout)
            guard outcome.succeeded else {
                throw K3sChangeError(.failed, "\(K3sChangeWorkflow.unitName) did not restart: \(outcome.detail)")
            }
            return outcome.detail
        }
        try step(prefix + "wait for /readyz") { () throws(K3sChangeError) in
            while !workflow.probe.isReady() {
                guard ContinuousClock.now + workflow.pollInterval < deadline else {
                    throw K3sChangeError(.failed, "the API server was not ready within \(DurationParser.format(workflow.readyTimeout)) (k3s.readyTimeout)")
                }
                ThreadSleep.sleep(seconds: Double(workflow.pollInterval.components.seconds) + Double(workflow.pollInterval.components.attoseconds) / 1e18)
            }
            return "ok"
        }
        var served = ""
        try step(prefix + "verify the served issuer") { () throws(K3sChangeError) in
            served = try workflow.probe.servedIssuer()
            guard served == expected else {
                throw K3sChangeError(.failed, "the API server serves issuer \(served), expected \(expected)")
            }
            return served
        }
        return served
    }

    private mutating func step(_ name: String, _ body: () throws(K3sChangeError) -> String?) throws(K3sChangeError) {
        let start = ContinuousClock.now
        observer.stepStarted(name)
        do {
            let detail = try body()
            finish(K3sChangeStep(name: name, ok: true, seconds: Self.seconds(since: start), detail: detail))
        } catch {
            finish(K3sChangeStep(name: name, ok: false, seconds: Self.seconds(since: start), detail: error.message))
            throw error
        }
    }

    private mutating func finish(_ step: K3sChangeStep) {
        steps.append(step)
        observer.stepFinished(step)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension K3sChangeWorkflow {
    /// The configuration for display (`aiosctl k3s config`): like `runConfiguration()`, but on a host without a
    /// K3s server it shows the default files as K3s' installer would lay them out.
    public func inspect() throws(K3sChangeError) -> (run: K3sRunConfiguration, unitLoaded: Bool) {
        if let description = try unit.describe(Self.unitName) {
            return (try K3sRunConfiguration.read(unit: description, files: files), true)
        }
        let placeholder = K3sUnitDescription(name: Self.unitName, commandLine: [], environmentFiles: K3sEnvironment.defaultFiles)
        return (try K3sRunConfiguration.read(unit: placeholder, files: files), false)
    }
}
