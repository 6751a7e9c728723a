import AIOSAPI

extension Output {
    /// The steps of a K3s change, one line each, then the outcome.
    static func summary(_ response: K3sChangeResponse, done: String) -> String {
        guard response.changed else { return "Nothing to do: \(response.dropIn) already says this; K3s was not restarted." }
        var lines = response.steps.map { step in
            "  \(step.ok ? "ok  " : "FAIL") \(step.name) (\(tenths(step.seconds))s)\(step.detail.map { ": \($0)" } ?? "")"
        }
        lines.append(done + (response.servedIssuer.map { "; the API server serves \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }

    static func tenths(_ seconds: Double) -> String {
        let value = Int((seconds * 10).rounded())
        return "\(value / 10).\(value % 10)"
    }
}
