/// One check of `aiosctl doctor`: ok, warn or fail, what was found, and on a problem the exact command that fixes it.
public struct DoctorFinding: Sendable, Equatable {
    public enum Status: String, Sendable { case ok, warn, fail }

    /// A stable name, e.g. `k3s.ready`, `vault.access`.
    public var check: String
    public var status: Status
    public var detail: String
    public var fix: String?

    public init(_ check: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}
