/// `GET /v1/doctor`: the host's prerequisites, one finding per check.
public struct DoctorResponse: Codable, Sendable, Equatable {
    public struct Finding: Codable, Sendable, Equatable {
        public var check: String
        public var status: DoctorStatus
        public var detail: String
        /// The command that fixes it, with this host's values filled in.
        public var fix: String?

        public init(check: String, status: DoctorStatus, detail: String, fix: String? = nil) {
            self.check = check
            self.status = status
            self.detail = detail
            self.fix = fix
        }
    }

    /// False when any check failed (warnings do not fail).
    public var ok: Bool
    public var findings: [Finding]

    public init(ok: Bool, findings: [Finding]) {
        self.ok = ok
        self.findings = findings
    }
}

/// A check's outcome: a warning does not fail the doctor, a failure does.
public enum DoctorStatus: String, Codable, Sendable, CaseIterable {
    case ok, warn, fail
}
