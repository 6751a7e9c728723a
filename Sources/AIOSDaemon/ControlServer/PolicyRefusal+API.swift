import AIOSAPI
import AIOSCore

extension AccessLevel {
    /// The domain's view of the same level.
    var privilege: Privilege {
        switch self {
        case .reader: .reader
        case .operator: .operator
        case .root: .root
        }
    }
}

extension APIError {
    /// A policy refusal on the wire: `permission_denied` (aiosctl exit 4) when someone of a higher level may do
    /// it, `bad_request` when nobody may. The message names the rule and the caller's level.
    init(_ refusal: PolicyRefusal, caller: AccessLevel) {
        switch refusal.kind {
        case .needsPrivilege:
            self.init(code: .permissionDenied, message: "refused, nothing changed: \(refusal.message) (rule \(refusal.rule); you are \(caller == .operator ? "an" : "a") \(caller))",
                      hint: refusal.hint)
        case .invalid:
            self.init(code: .badRequest, message: "refused, nothing changed: \(refusal.message) (rule \(refusal.rule))", hint: refusal.hint)
        }
    }

    /// Runs a domain policy check, turning its refusal into the API error.
    static func checking(_ caller: AccessLevel, _ check: () throws(PolicyRefusal) -> Void) throws(APIError) {
        do {
            try check()
        } catch {
            throw APIError(error, caller: caller)
        }
    }
}
