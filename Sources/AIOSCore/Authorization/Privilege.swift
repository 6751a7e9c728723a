/// Who is asking, as the domain's policies see it (the daemon derives it from the peer's credentials).
public enum Privilege: Int, Sendable, Comparable, CustomStringConvertible {
    /// May read: status, lists, show.
    case reader
    /// Member of `control.adminGroup`: bounded changes.
    case `operator`
    /// uid 0 or a member of `control.k3sAdminGroup`: unbounded.
    case root

    public static func < (lhs: Privilege, rhs: Privilege) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .reader: "reader"
        case .operator: "operator"
        case .root: "root"
        }
    }
}

/// A request a policy refused: which rule, and who may do it instead. Nothing was changed.
public struct PolicyRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The requester's level is too low for this: `needs` may do it.
        case needsPrivilege(Privilege)
        /// Nobody may do it this way (a malformed value, an unsafe file).
        case invalid
    }

    /// A short stable name of the rule, e.g. `operator-allow-list`, quoted in the message.
    public let rule: String
    public let kind: Kind
    public let message: String
    public let hint: String?

    public init(rule: String, kind: Kind, message: String, hint: String? = nil) {
        self.rule = rule
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (rule: \(rule))" }
}
