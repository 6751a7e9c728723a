import FoundationEssentials
import Glibc

/// The sync state file's JSON written member by member, byte for byte what `SyncStateStore.encoder` (JSONEncoder,
/// sorted keys, ISO 8601 dates) writes for the array: the file is written at the end of every cycle, and
/// JSONEncoder's generic path for 10,000 statuses was 3% of a first sync's CPU (perf). Neither a tree of the whole
/// array nor its text is held while it is written: the text goes out in parts of `partSize` bytes or so (the
/// whole text of 10,000 statuses, 7 MB, was held at the end of every cycle, its peak).
extension SyncStateStore {
    static let partSize = 64 * 1024

    /// Writes the statuses' JSON to `output` in parts, in the order `statuses` gives them.
    static func encode<Statuses: Sequence<SyncDefinitionStatus>, Failure: Error>(
        _ statuses: Statuses, partSize: Int = partSize, to output: ([UInt8]) throws(Failure) -> Void) throws(Failure) {
        // A status with its three hashes is ~700 bytes of JSON: room for a part and the status that ends it.
        var json = JSONWriter(capacity: partSize + 4096, escapingSlashes: true)
        json.beginArray()
        for status in statuses {
            write(status, to: &json)
            if json.bytes.count >= partSize { try output(json.drain()) }
        }
        json.endArray()
        try output(json.drain())
    }

    /// The whole text at once (tests hold it to JSONEncoder's).
    static func encoded(_ statuses: [SyncDefinitionStatus], partSize: Int = partSize) -> [UInt8] {
        var text: [UInt8] = []
        encode(statuses, partSize: partSize) { (part: [UInt8]) throws(Never) in text += part }
        return text
    }

    // Members in sorted order, as `.sortedKeys` writes them; nil members left out, as synthesized Codable does.

    private static func write(_ status: SyncDefinitionStatus, to json: inout JSONWriter) {
        json.beginObject()
        if let value = status.definitionHash { json.member("definitionHash", value) }
        if let issue = status.issue { write(issue, named: "issue", to: &json) }
        if let date = status.lastApplied { json.member("lastApplied", iso8601(date)) }
        if let date = status.lastAttempt { json.member("lastAttempt", iso8601(date)) }
        if let date = status.lastSuccess { json.member("lastSuccess", iso8601(date)) }
        json.member("name", status.name)
        json.key("objects")
        json.beginArray()
        for object in status.objects { write(object, to: &json) }
        json.endArray()
        json.member("targetDeleted", status.targetDeleted)
        if let value = status.targetHash { json.member("targetHash", value) }
        if let value = status.targetResourceVersion { json.member("targetResourceVersion", value) }
        json.endObject()
    }

    private static func write(_ object: SyncObjectStatus, to json: inout JSONWriter) {
        json.beginObject()
        json.member("alias", object.alias)
        if let value = object.contentHash { json.member("contentHash", value) }
        if let value = object.expires { json.member("expires", value) }
        if let value = object.expiryWarnedDays { json.member("expiryWarnedDays", value) }
        if let issue = object.issue { write(issue, named: "issue", to: &json) }
        if let date = object.lastAttempt { json.member("lastAttempt", iso8601(date)) }
        if let date = object.lastSuccess { json.member("lastSuccess", iso8601(date)) }
        if let value = object.notBefore { json.member("notBefore", value) }
        json.member("objectName", object.objectName)
        if let value = object.observedAt { json.member("observedAt", value) }
        if let value = object.vaultUpdated { json.member("vaultUpdated", value) }
        if let value = object.vaultVersion { json.member("vaultVersion", value) }
        json.endObject()
    }

    private static func write(_ issue: SyncIssue, named name: String, to json: inout JSONWriter) {
        json.key(name)
        json.beginObject()
        json.member("code", issue.code)
        if let hint = issue.hint { json.member("hint", hint) }
        json.member("message", issue.message)
        json.endObject()
    }

    /// `2026-12-01T18:30:14Z`: whole seconds, the fraction dropped, UTC (what the `.iso8601` strategy writes).
    private static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return date.formatted(.iso8601) }
        return InternetTime.pad(Int(parts.tm_year) + 1900, 4) + "-" + InternetTime.pad(Int(parts.tm_mon) + 1, 2) + "-"
            + InternetTime.pad(Int(parts.tm_mday), 2) + "T" + InternetTime.pad(Int(parts.tm_hour), 2) + ":"
            + InternetTime.pad(Int(parts.tm_min), 2) + ":" + InternetTime.pad(Int(parts.tm_sec), 2) + "Z"
    }
}
