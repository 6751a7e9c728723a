import AIOSAPI

extension Output {
    /// The outcome of a K3s change.
    static func summary(_ response: K3sChangeResponse, done: String) -> String {
        // The steps were shown as they happened (JobProgress).
        guard response.changed else { return "Nothing to do: \(response.dropIn) already says this; K3s was not restarted." }
        return done + (response.servedIssuer.map { "; the API server serves \($0)" } ?? "")
    }
}
