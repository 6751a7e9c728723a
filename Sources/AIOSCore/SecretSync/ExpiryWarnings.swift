import FoundationEssentials
import Logging

/// Warnings about objects whose expiry nears: one journal entry when the expiry (Key Vault's `exp`, or a
/// certificate's notAfter) comes within 30, 7 and 1 days, and one when it has passed. Each threshold is warned
/// once per expiry time, not once per cycle; the last one warned is kept in the sync state, so a restart does not
/// repeat it, and a renewed secret (another expiry time) starts over.
public enum ExpiryWarnings {
    /// In days; 0 is "expired".
    public static let thresholdDays = [30, 7, 1, 0]

    /// The threshold that `now` has crossed and that was not warned yet, or nil. Only the nearest one is due: a
    /// secret first seen 5 days before its expiry gets the 7-day warning, not the 30-day one as well.
    public static func due(expires: Int, now: Int, warnedDays: Int?) -> Int? {
        let remaining = expires - now
        guard let crossed = thresholdDays.last(where: { remaining <= $0 * 86400 }) else { return nil }
        if let warnedDays, warnedDays <= crossed { return nil }
        return crossed
    }

    /// Records `expires`/`notBefore` from a fetch on the object, forgetting the warnings of an earlier expiry.
    static func record(expires: Int?, notBefore: Int?, on status: inout SyncObjectStatus) {
        if status.expires != expires { status.expiryWarnedDays = nil }
        status.expires = expires
        status.notBefore = notBefore
    }

    /// Warns in the journal when a threshold is due for the object, and remembers it.
    static func check(_ status: inout SyncObjectStatus, definition: SyncDefinition, now: Date, logger: Logger) {
        guard let expires = status.expires else { return }
        let seconds = Int(now.timeIntervalSince1970)
        guard let days = due(expires: expires, now: seconds, warnedDays: status.expiryWarnedDays) else { return }
        status.expiryWarnedDays = days
        let metadata: Logger.Metadata = [
            "secret": "\(definition.name)", "vault": "\(definition.keyvaultName)", "object": "\(status.objectName)",
            "expires": "\(Date(timeIntervalSince1970: Double(expires)).formatted(.iso8601))",
            "seconds_left": "\(expires - seconds)", "threshold_days": "\(days)",
        ]
        if days == 0 {
            logger.warning("Key Vault object has expired; still synced", metadata: metadata)
        } else {
            logger.warning("Key Vault object expires soon", metadata: metadata)
        }
    }
}
