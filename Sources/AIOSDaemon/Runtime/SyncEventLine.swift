import AIOSAPI
import AIOSCore
import FoundationEssentials

/// One line of `POST /v1/sync`'s NDJSON stream. A `secret` line without an issue (one per definition: 10,000 in a
/// first sync at that scale) is written member by member, in the text `APICoding.encoder()` writes for it (sorted
/// keys): JSONEncoder's generic path for it was 4% of such a sync's CPU (perf). Every other event goes through the
/// encoder.
enum SyncEventLine {
    static func line(_ event: SyncEvent, encoder: JSONEncoder) -> [UInt8]? {
        if event.event == .secret, event.total == nil, event.response == nil, let result = event.result, result.issue == nil,
           result.seconds.isFinite {
            return secret(result)
        }
        guard let encoded = try? encoder.encode(event) else { return nil }
        var line = [UInt8](encoded)
        line.append(0x0A)
        return line
    }

    /// `{"event":"secret","result":{"fetched":1,"name":"app","result":"applied","seconds":0.029}}` and a newline.
    private static func secret(_ result: SyncResult) -> [UInt8] {
        var json = JSONWriter(capacity: 96 + result.name.utf8.count)
        json.beginObject()
        json.member("event", SyncEvent.Kind.secret.rawValue)
        json.key("result")
        json.beginObject()
        json.member("fetched", result.fetched)
        json.member("name", result.name)
        json.member("result", result.result.rawValue)
        json.member("seconds", result.seconds)
        json.endObject()
        json.endObject()
        json.newline()
        return json.bytes
    }
}
