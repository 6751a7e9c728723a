import AIOSAPI
import AIOSCore
import AIOSSystemd
import Logging

/// K3s' unit over D-Bus and its journal, for the K3s change workflow.
struct SystemdK3sUnit: K3sUnitControl {
    let logger: Logger
    /// How far back the journal is searched for K3s' `Running kube-apiserver` line (K3s logs a lot at start).
    static let journalLines = 5000

    func describe(_ unit: String) throws(K3sChangeError) -> K3sUnitDescription? {
        do {
            let systemd = try SystemdManager()
            guard try systemd.isLoaded(unit) else { return nil }
            let environment = try systemd.environment(of: unit)
            return K3sUnitDescription(name: unit, commandLine: try systemd.execStart(of: unit) ?? [], environment: environment.assignments,
                                      environmentFiles: environment.files)
        } catch {
            throw Self.error(error, doing: "read \(unit)")
        }
    }

    func restart(_ unit: String, timeout: Duration) throws(K3sChangeError) -> K3sRestartOutcome {
        let outcome: JobOutcome
        do {
            outcome = try K3sRestart.run(timeout: timeout, logger: logger)
        } catch {
            throw K3sChangeError(.systemd, error.message, hint: error.hint)
        }
        return K3sRestartOutcome(succeeded: outcome.succeeded, detail: outcome.succeeded ? "job \(outcome.result), pid \(outcome.unit.mainPID)"
                                 : "job \(outcome.result), unit \(outcome.unit.activeState)/\(outcome.unit.subState), result \(outcome.unit.result)")
    }

    func runningAPIServerArguments(_ unit: String) -> [String]? {
        JournalReader.tail(unit: unit, count: Self.journalLines).reversed().lazy.compactMap(KubeAPIServerArguments.parseRunningLine).first
    }

    static func error(_ error: SystemdError, doing what: String) -> K3sChangeError {
        let mapped = HostOperations.apiError(error, doing: what)
        return K3sChangeError(.systemd, mapped.message, hint: mapped.hint)
    }
}

/// A job's progress as the K3s change workflow reports it.
struct JobK3sChangeObserver: K3sChangeObserver {
    let context: JobContext?
    let logger: Logger

    func stepStarted(_ name: String) { context?.stepStarted(name) }

    func stepFinished(_ step: K3sChangeStep) {
        context?.stepFinished(JobStep(name: step.name, ok: step.ok, seconds: step.seconds, detail: step.detail))
        if step.ok {
            logger.info("K3s change step done", metadata: ["step": "\(step.name)", "job.id": "\(context?.id ?? "-")"])
        } else {
            logger.error("K3s change step failed", metadata: ["step": "\(step.name)", "job.id": "\(context?.id ?? "-")", "error": "\(step.detail ?? "")"])
        }
    }

    func k3sFailed() {
        context?.captureK3sJournal()
        logger.error("K3s change failed; rolling back", metadata: ["job.id": "\(context?.id ?? "-")"])
    }
}

extension K3sChangeError {
    /// The wire error: a refusal is the client's to fix and changed nothing.
    var apiError: APIError {
        kind == .refused ? APIError(code: .badRequest, message: "refused, nothing changed: \(message)", hint: hint) : readError
    }

    /// For a request that only reads: a refusal (no K3s server here) is a plain "not found".
    var readError: APIError {
        switch kind {
        case .refused: APIError(code: .notFound, message: message, hint: hint)
        case .invalidConfiguration: APIError(code: .configInvalid, message: message, hint: hint)
        case .failed: APIError(code: .operationFailed, message: message, hint: hint)
        case .systemd: APIError(code: .systemdError, message: message, hint: hint)
        case .internal: APIError(code: .internalError, message: message, hint: hint)
        }
    }
}
