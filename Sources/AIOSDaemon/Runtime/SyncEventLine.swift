import AIOSAPI
import AIOSCore
import FoundationEssentials

/// One line of `POST /v1/sync`'s NDJSON stream. A `secret` line without an issue (one per definition: 10,000 in a
/// first sync at that scale) is written member by member, in the text `APICoding.encoder()` writes for it (sorted
/// keys): JSONEncoder's generic path for it was 4% of such a sync's CPU (perf). The `finished` line's results are
/// written the same way: through the encoder, its tree of 10,000 results was built at the end of the cycle, when
/// the cycle's own tables are still held. Every other event goes through the encoder.
enum SyncEventLine {
    static func line(_ event: SyncEvent, encoder: JSONEncoder) -> [UInt8]? {
        if event.event == .secret, event.total == nil, event.response == nil, let result = event.result {
            var json = JSONWriter(capacity: 96 + result.name.utf8.count)
            json.beginObject()
            json.member("event", SyncEvent.Kind.secret.rawValue)
            json.key("result")
            guard write(result, to: &json, encoder: encoder) else { return nil }
            json.endObject()
            json.newline()
            return json.bytes
        }
        if event.event == .finished, event.total == nil, event.result == nil, let response = event.response, !response.results.isEmpty {
            return finished(event, response: response, encoder: encoder)
        }
        guard let encoded = try? encoder.encode(event) else { return nil }
        var line = [UInt8](encoded)
        line.append(0x0A)
        return line
    }

    /// The encoder's text for the event with no results, its `"results":[]` replaced by the results written one by
    /// one. The key occurs once: inside the encoder's strings every quote is escaped, so `"results":` cannot.
    private static func finished(_ event: SyncEvent, response: SyncResponse, encoder: JSONEncoder) -> [UInt8]? {
        var empty = response
        empty.results = []
        guard let head = try? encoder.encode(SyncEvent(event: event.event, response: empty)) else { return nil }
        let marker = Array(#""results":[]"#.utf8)
        let text = [UInt8](head)
        guard let at = text.indices.first(where: { text[$0...].starts(with: marker) }) else { return nil }
        var json = JSONWriter(capacity: text.count + response.results.count * 96)
        json.beginArray()
        for result in response.results {
            guard write(result, to: &json, encoder: encoder) else { return nil }
        }
        json.endArray()
        var line = Array(text[..<at])
        line.reserveCapacity(text.count + json.bytes.count + 1)
        line += #""results":"#.utf8
        line += json.bytes
        line += text[(at + marker.count)...]
        line.append(0x0A)
        return line
    }

    /// `{"fetched":1,"name":"app","result":"applied","seconds":0.029}`; a result with an issue (or a time JSON has
    /// no number for) is the encoder's.
    private static func write(_ result: SyncResult, to json: inout JSONWriter, encoder: JSONEncoder) -> Bool {
        guard result.issue == nil, result.seconds.isFinite else {
            guard let encoded = try? encoder.encode(result) else { return false }
            json.json(encoded)
            return true
        }
        json.beginObject()
        json.member("fetched", result.fetched)
        json.member("name", result.name)
        json.member("result", result.result.rawValue)
        json.member("seconds", result.seconds)
        json.endObject()
        return true
    }
}
