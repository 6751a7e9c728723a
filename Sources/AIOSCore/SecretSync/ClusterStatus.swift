import FoundationEssentials

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
                               hasher: ContentHasher, now: Date = Date()) -> [String: JSONValue] {
        let previous = previousConditions(sync)
        func condition(_ type: String, _ state: String, _ reason: Reason, _ message: String) -> JSONValue {
            let old = previous[type]
            let unchanged = old?["status"]?.string == state && old?["reason"]?.string == reason.rawValue
            let transition = unchanged ? (old?["lastTransitionTime"]?.string ?? timestamp(now)) : timestamp(now)
            return ["type": JSONValue(type), "status": JSONValue(state), "reason": JSONValue(reason.rawValue), "message": JSONValue(message),
                    "observedGeneration": JSONValue(sync.generation), "lastTransitionTime": JSONValue(transition)]
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

        var conditions: [JSONValue] = []
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
        var result: [String: JSONValue] = ["conditions": .array(conditions)]
        if let applied = status?.lastApplied { result["lastSuccessfulSyncTime"] = JSONValue(timestamp(applied)) }
        if let hash = status?.targetHash {
            result["syncHash"] = JSONValue("v1:" + hasher.hash(Array((sync.uid + "\n" + hash).utf8)).replacingAll("hmac-sha256:", with: ""))
        }
        return result
    }

    /// True when the SecretSync carries a status aiosd wrote (each of aiosd's condition messages names it).
    public static func isAiosds(_ sync: ClusterObjects.SecretSync) -> Bool {
        previousConditions(sync).values.contains { $0["message"]?.string?.contains("aiosd") == true }
    }

    /// The merge patch that takes aiosd's conditions, hash and time off a SecretSync it no longer syncs.
    public static var released: [String: JSONValue] { ["conditions": .null, "syncHash": .null, "lastSuccessfulSyncTime": .null] }

    /// True when `desired` differs from what the object carries.
    public static func differs(_ desired: [String: JSONValue], from sync: ClusterObjects.SecretSync) -> Bool {
        guard let current = sync.status.flatMap({ JSONValue(parsing: $0) }) else { return true }
        // Compared as values, so key order does not count; `3.0` and `3` are one number, as they were to NSNumber.
        return !JSONValue.object(desired).sameValue(as: current)
    }

    private static func previousConditions(_ sync: ClusterObjects.SecretSync) -> [String: [String: JSONValue]] {
        guard let data = sync.status, let conditions = JSONValue.object(parsing: data)?["conditions"]?.objectArray else { return [:] }
        return Dictionary(conditions.compactMap { c in c["type"]?.string.map { ($0, c) } }, uniquingKeysWith: { $1 })
    }

    static func timestamp(_ date: Date) -> String { InternetTime.format(date) }
}
