/// Who may call an endpoint (README "Security"). Each level includes the ones below it.
public enum AccessLevel: String, Sendable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    /// A member of the socket group (`control.socketGroup`): status, lists, show.
    case reader
    /// A member of `control.adminGroup`: sync, secret definitions within the root-owned policy, workload
    /// identity, K3s restart, daemon-reload, the operator allow-list of kube-apiserver flags.
    case `operator`
    /// uid 0 or a member of `control.k3sAdminGroup`: every kube-apiserver flag, unbounded secret targets.
    case root

    public static func < (lhs: AccessLevel, rhs: AccessLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public var description: String { rawValue }
}
