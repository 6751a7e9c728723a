import FoundationEssentials
import Glibc

/// RFC 3339 (`2006-01-02T15:04:05Z`, as Kubernetes writes times) and RFC 9110 HTTP dates
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), in UTC with the C library's calendar arithmetic: no DateFormatter, so
/// no ICU in aiosd.
public enum InternetTime {
    /// `yyyy-MM-ddTHH:mm:ssZ`, the fraction of a second dropped (as ISO8601DateFormatter's `.withInternetDateTime`,
    /// which first rounds to the millisecond).
    public static func format(_ date: Date) -> String {
        var seconds = time_t(((date.timeIntervalSince1970 * 1000).rounded() / 1000).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "Z"
    }

    /// `value` in decimal, zero-padded to `width` digits.
    public static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// An RFC 3339 date-time: `T`, seconds, an optional fraction of any length, `Z` or a `±hh:mm` offset.
    public static func parse(_ text: String) -> Date? {
        var scanner = Scanner(text)
        guard let year = scanner.number(4), scanner.skip("-"), let month = scanner.number(2), scanner.skip("-"),
              let day = scanner.number(2), scanner.skip("T"), let hour = scanner.number(2), scanner.skip(":"),
              let minute = scanner.number(2), scanner.skip(":"), let second = scanner.number(2) else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            let digits = scanner.digits()
            guard !digits.isEmpty, let value = Double("0." + digits) else { return nil }
            fraction = value
        }
        var offset = 0
        if scanner.skip("Z") {
        } else if let sign = scanner.next(), sign == "+" || sign == "-", let hours = scanner.number(2) {
            _ = scanner.skip(":")
            guard let minutes = scanner.number(2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 60 + minutes) * 60 * (sign == "-" ? -1 : 1)
        } else {
            return nil
        }
        guard scanner.atEnd, let seconds = epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        return Date(timeIntervalSince1970: Double(seconds - offset) + fraction)
    }

    /// An RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` (the form Key Vault's Retry-After and every
    /// Date header use).
    public static func parseHTTPDate(_ text: String) -> Date? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].count == 4, fields[0].hasSuffix(","), days.contains(String(fields[0].dropLast())),
              fields[5] == "GMT", let month = months.firstIndex(of: String(fields[2])) else { return nil }
        var date = Scanner(String(fields[1])), year = Scanner(String(fields[3])), time = Scanner(String(fields[4]))
        guard let day = date.number(2), date.atEnd, let yearValue = year.number(4), year.atEnd,
              let hour = time.number(2), time.skip(":"), let minute = time.number(2), time.skip(":"),
              let second = time.number(2), time.atEnd,
              let seconds = epochSeconds(year: yearValue, month: month + 1, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    private static let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since 1970 of a UTC calendar time, nil when a field is out of range (Feb 30, 25:00, ...);
    /// a leap second (`:60`) is refused.
    private static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        // timegm normalizes (Feb 30 becomes Mar 2): a date that does not exist comes back as another day.
        guard parts.tm_mday == Int32(day), parts.tm_mon == Int32(month - 1) else { return nil }
        return Int(seconds)
    }

    /// Reads ASCII fields left to right.
    private struct Scanner {
        private let bytes: [UInt8]
        private var index = 0

        init(_ text: String) { bytes = Array(text.utf8) }

        var atEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Character) -> Bool {
            guard !atEnd, let ascii = character.asciiValue, bytes[index] == ascii else { return false }
            index += 1
            return true
        }

        mutating func next() -> Character? {
            guard !atEnd else { return nil }
            defer { index += 1 }
            return Character(Unicode.Scalar(bytes[index]))
        }

        /// Exactly `count` decimal digits.
        mutating func number(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        mutating func digits() -> String {
            let start = index
            while !atEnd, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }
}
