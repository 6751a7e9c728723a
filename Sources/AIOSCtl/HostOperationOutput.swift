import AIOSAPI

extension Output {
    /// One line for a finished host operation: `k3s.service restarted (job done, active/running, pid 812) in 4.2s`.
    static func summary(_ response: HostOperationResponse, verb: String) -> String {
        var text = "\(response.unit ?? "systemd") \(verb)"
        var details = ["job \(response.result)"]
        if let active = response.activeState, let sub = response.subState { details.append("\(active)/\(sub)") }
        if let pid = response.mainPID, pid > 0 { details.append("pid \(pid)") }
        text += " (\(details.joined(separator: ", "))) in \(DurationText.format(seconds: response.durationSeconds))"
        return text
    }
}
