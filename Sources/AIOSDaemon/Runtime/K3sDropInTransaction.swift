import AIOSAPI
import AIOSCore
import AIOSSystemd
import Foundation
import Logging

/// Changes the agent's K3s drop-in as one transaction: record, atomic write, restart, verify; on failure restore
/// the previous file, restart, and verify the old state came back. The record under /var/lib/aiosd lets the next
/// start of aiosd roll back a transaction a crash interrupted.
struct K3sDropInTransaction {
    struct Record: Codable {
        var path: String
        /// nil: the drop-in did not exist before.
        var previous: String?
        var startedAt: Date
    }

    static let recordPath = Defaults.stateDirectory + "/k3s-transaction.json"

    let logger: Logger
    /// The job this change runs as; nil for the roll-back at start-up.
    let context: JobContext?
    var readyTimeout: Duration = K3sDefaults.restartTimeout
    private(set) var steps: [K3sChangeResponse.Step] = []

    init(logger: Logger, context: JobContext?) {
        self.logger = logger
        self.context = context
    }

    /// Writes `text` (nil removes the drop-in), restarts K3s, and checks it serves `expectedIssuer`.
    mutating func apply(_ text: String?, previous: String?, expectedIssuer: String) throws(APIError) -> String {
        let path = AgentDropIn.path
        try step("record transaction") { () throws(APIError) in
            do {
                try AtomicFile.createDirectory(Defaults.stateDirectory, mode: 0o700)
                let record = Record(path: path, previous: previous, startedAt: Date())
                try AtomicFile.write(String(decoding: try APICoding.encoder().encode(record), as: UTF8.self), to: Self.recordPath, mode: 0o600)
            } catch {
                throw APIError(code: .internalError, message: "cannot record the transaction in \(Self.recordPath): \(error)")
            }
            return nil
        }
        do {
            try write(text, to: path, stepName: "write \(path)")
            let served = try restartAndVerify(expectedIssuer: expectedIssuer)
            try? AtomicFile.remove(Self.recordPath)
            return served
        } catch {
            let failure = error
            context?.captureK3sJournal()
            logger.error("K3s change failed; rolling back", metadata: ["k3s.dropin": "\(path)", "error": "\(failure.message)"])
            let rollback: String
            do {
                try write(previous, to: path, stepName: "rollback: restore \(path)")
                let previousIssuer = Self.firstIssuer(in: previous)
                let served = try restartAndVerify(expectedIssuer: previousIssuer, prefix: "rollback: ")
                rollback = "rolled back: the previous \(path) is restored and the API server serves \(served) again"
            } catch {
                rollback = "the rollback failed too: \(error.message)"
            }
            try? AtomicFile.remove(Self.recordPath)
            throw APIError(code: .operationFailed, message: "\(failure.message); \(rollback)", hint: "journalctl -u \(K3sDefaults.unit) -n 50")
        }
    }

    /// Finishes a transaction a crash interrupted: the previous drop-in is restored and K3s restarted.
    static func recoverIfInterrupted(logger: Logger) {
        guard let data = FileManager.default.contents(atPath: recordPath),
              let record = try? APICoding.decoder().decode(Record.self, from: data) else { return }
        logger.warning("Interrupted K3s change found; rolling back", metadata: ["k3s.dropin": "\(record.path)"])
        var transaction = K3sDropInTransaction(logger: logger, context: nil)
        do {
            try transaction.write(record.previous, to: record.path, stepName: "restore \(record.path)")
            _ = try transaction.restartAndVerify(expectedIssuer: firstIssuer(in: record.previous))
            logger.notice("Interrupted K3s change rolled back", metadata: ["k3s.dropin": "\(record.path)"])
        } catch {
            logger.error("Rolling back an interrupted K3s change failed", metadata: ["error": "\(error.message)"])
        }
        try? AtomicFile.remove(recordPath)
    }

    static func firstIssuer(in dropIn: String?) -> String {
        let arguments = (dropIn.flatMap { try? AgentDropIn.arguments(in: $0) }) ?? []
        return arguments.first { $0.flagName == "service-account-issuer" }?.value ?? WorkloadIdentityPlanner.defaultIssuer
    }

    private mutating func write(_ text: String?, to path: String, stepName: String) throws(APIError) {
        try step(stepName) { () throws(APIError) in
            do {
                if let text {
                    try AtomicFile.createDirectory(K3sConfigReader.defaultConfigPath + ".d")
                    try AtomicFile.write(text, to: path, mode: 0o600)
                } else {
                    try AtomicFile.remove(path)
                }
            } catch {
                let readOnly = "\(error)".contains(String(cString: strerror(EROFS)))
                throw APIError(code: .operationFailed, message: "cannot write \(path): \(error)",
                               hint: readOnly ? "aiosd's sandbox was set up before /etc/rancher/k3s existed; run: systemctl restart aiosd" : nil)
            }
            return nil
        }
    }

    private mutating func restartAndVerify(expectedIssuer: String, prefix: String = "") throws(APIError) -> String {
        let unit = K3sDefaults.unit
        let timeout = readyTimeout
        let logger = self.logger
        try step(prefix + "restart \(unit)") { () throws(APIError) in
            let outcome = try K3sRestart.run(timeout: timeout, logger: logger)
            guard outcome.succeeded else { throw K3sRestart.failure(outcome) }
            return "job \(outcome.result), pid \(outcome.unit.mainPID)"
        }
        let client: K3sAPIClient
        do {
            client = K3sAPIClient(kubeconfig: try Kubeconfig.load())
        } catch {
            throw APIError(code: .operationFailed, message: "cannot read K3s' admin credentials: \(error)")
        }
        try step(prefix + "wait for /readyz") { () throws(APIError) in
            guard client.waitUntilReady(within: timeout) else {
                throw APIError(code: .operationFailed, message: "the API server was not ready within \(DurationParser.format(timeout))")
            }
            return "ok"
        }
        var served = ""
        try step(prefix + "verify the served issuer") { () throws(APIError) in
            do {
                served = try client.servedIssuer()
            } catch {
                throw APIError(code: .operationFailed, message: "\(error)")
            }
            guard served == expectedIssuer else {
                throw APIError(code: .operationFailed, message: "the API server serves issuer \(served), expected \(expectedIssuer)")
            }
            return served
        }
        return served
    }

    private mutating func step(_ name: String, _ body: () throws(APIError) -> String?) throws(APIError) {
        let start = ContinuousClock.now
        context?.stepStarted(name)
        do {
            let detail = try body()
            record(JobStep(name: name, ok: true, seconds: (ContinuousClock.now - start).seconds, detail: detail))
            logger.info("K3s change step done", metadata: ["step": "\(name)", "job.id": "\(context?.id ?? "-")"])
        } catch {
            record(JobStep(name: name, ok: false, seconds: (ContinuousClock.now - start).seconds, detail: error.message))
            logger.error("K3s change step failed", metadata: ["step": "\(name)", "job.id": "\(context?.id ?? "-")", "error": "\(error.message)"])
            throw error
        }
    }

    private mutating func record(_ step: JobStep) {
        steps.append(step)
        context?.stepFinished(step)
    }
}
