import Foundation

/// What aiosd writes to a SecretSync's status: the controller's condition types (`SecretCreated`,
/// `SecretUpdated`) and reasons, `lastSuccessfulSyncTime` and a keyed `syncHash`. Written only when it
/// changes, so a sync where nothing changed writes nothing to the API server.
public enum ClusterStatus {
    public static let createdType = "SecretCreated"
    public static let updatedType = "SecretUpdated"

    /// The condition reasons aiosd uses (the Secret Synchronization Controller's vocabulary).
    public enum Reason: String, Sendable {
        case syncStarting = "SyncStarting"
        case noUpdatesAttemptedYet = "NoUpdatesAttemptedYet"
        case createSuccessful = "CreateSuccessful"
        case secretUpToDate = "SecretUpToDate"
        case providerClassMisconfigured = "SecretProviderClassMisconfigured"
        case remoteFetchFailed = "RemoteSecretStoreFetchFailed"
        case patchError = "ControllerPatchError"
        case syncError = "ControllerSyncError"
    }

    /// The status for `sync`: from its definition's sync status, or from why it cannot be used (`invalid`).
    public static func desired(for sync: ClusterObjects.SecretSync, status: SyncDefinitionStatus?, invalid: SyncIssue?,
                               hasher: ContentHasher, now: Date = Date()) -> [String: Any] {
        let previous = previousConditions(sync)
        func condition(_ type: String, _ state: String, _ reason: Reason, _ message: String) -> [String: Any] {
            let old = previous[type]
            let unchanged = old?["status"] as? String == state && old?["reason"] as? String == reason.rawValue
            return ["type": type, "status": state, "reason": reason.rawValue, "message": message,
                    "observedGeneration": sync.generation,
                    "lastTransitionTime": unchanged ? (old?["lastTransitionTime"] as? String ?? timestamp(now)) : timestamp(now)]
        }
        let issue = invalid ?? status?.issue ?? status?.objects.compactMap(\.issue).first
        let failureReason: Reason = {
            guard let issue else { return .remoteFetchFailed }
            // Who the SecretSync is read as (its service account, its SPC's identity, its namespace): the controller
            // reports a failed token request as ControllerSyncError.
            if ["ServiceAccountNotFound", "IdentityNotConfigured", "NamespaceNotAllowed"].contains(issue.code) { return .syncError }
            if invalid != nil || issue.code == "SecretProviderClassMisconfigured" { return .providerClassMisconfigured }
            if ["KubernetesError", "TargetNotOwned", "KubernetesUnreachable", "KubeconfigUnusable"].contains(issue.code) { return .patchError }
            return .remoteFetchFailed
        }()
        let failureMessage = issue.map { "aiosd: \($0.code): \($0.message)" + ($0.hint.map { " (fix: \($0))" } ?? "") } ?? ""

        var conditions: [[String: Any]] = []
        if status?.targetHash != nil || status?.lastApplied != nil {
            conditions.append(condition(createdType, "True", .createSuccessful, "Secret \(sync.key) created by aiosd"))
        } else if issue != nil, status?.lastAttempt != nil || invalid != nil {
            conditions.append(condition(createdType, "False", failureReason, failureMessage))
        } else {
            conditions.append(condition(createdType, "Unknown", .syncStarting, "waiting for aiosd's first sync"))
        }
        if issue == nil, status?.lastSuccess != nil {
            conditions.append(condition(updatedType, "True", .secretUpToDate, "Secret contains the last observed values (synced by aiosd)"))
        } else if issue != nil {
            conditions.append(condition(updatedType, "False", failureReason, failureMessage))
        } else {
            conditions.append(condition(updatedType, "Unknown", .noUpdatesAttemptedYet, "no aiosd sync yet"))
        }
        var result: [String: Any] = ["conditions": conditions]
        if let applied = status?.lastApplied { result["lastSuccessfulSyncTime"] = timestamp(applied) }
        if let hash = status?.targetHash {
            result["syncHash"] = "v1:" + hasher.hash(Array((sync.uid + "\n" + hash).utf8)).replacingOccurrences(of: "hmac-sha256:", with: "")
        }
        return result
    }

    /// True when the SecretSync carries a status aiosd wrote (each of aiosd's condition messages names it).
    public static func isAiosds(_ sync: ClusterObjects.SecretSync) -> Bool {
        previousConditions(sync).values.contains { ($0["message"] as? String)?.contains("aiosd") == true }
    }

    /// The merge patch that takes aiosd's conditions, hash and time off a SecretSync it no longer syncs.
    public static var released: [String: Any] { ["conditions": NSNull(), "syncHash": NSNull(), "lastSuccessfulSyncTime": NSNull()] }

    /// True when `desired` differs from what the object carries.
    public static func differs(_ desired: [String: Any], from sync: ClusterObjects.SecretSync) -> Bool {
        guard let current = sync.status else { return true }
        // Both sides through the same round trip, so number and key-order differences do not count.
        func canonical(_ data: Data) -> Data? {
            guard let object = try? JSONSerialization.jsonObject(with: data) else { return nil }
            return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        }
        guard let encoded = try? JSONSerialization.data(withJSONObject: desired, options: [.sortedKeys]),
              let a = canonical(encoded), let b = canonical(current) else { return true }
        return a != b
    }

    private static func previousConditions(_ sync: ClusterObjects.SecretSync) -> [String: [String: Any]] {
        guard let data = sync.status, let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let conditions = status["conditions"] as? [[String: Any]] else { return [:] }
        return Dictionary(conditions.compactMap { c in (c["type"] as? String).map { ($0, c) } }, uniquingKeysWith: { $1 })
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
