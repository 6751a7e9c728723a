import FoundationEssentials
import Glibc

/// The JSON conventions of the control API: ISO 8601 dates, sorted keys so output is stable.
public enum APICoding {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(iso8601(date))
        }
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// `2026-11-30T17:39:43Z`, exactly what the `.iso8601` strategy writes (whole seconds, UTC), by arithmetic:
    /// in aiosd, which links Foundation, the strategy goes through ICU's calendar, and the first date it encodes
    /// maps ~4 MiB of ICU into the daemon's resident set.
    public static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        guard gmtime_r(&seconds, &fields) != nil else { return date.formatted(.iso8601) }
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(fields.tm_year + 1900)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(fields.tm_mon + 1) + "-" + two(fields.tm_mday)
            + "T" + two(fields.tm_hour) + ":" + two(fields.tm_min) + ":" + two(fields.tm_sec) + "Z"
    }
}
