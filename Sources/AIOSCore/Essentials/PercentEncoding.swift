/// Percent-encoding without Foundation's CharacterSet (RFC 3986).
public enum PercentEncoding {
    /// A query parameter's value: every byte but RFC 3986's unreserved characters, the sub-delimiters and ":@"
    /// (`.urlQueryAllowed`) is escaped, and so is every character of `alsoEscaped` (e.g. "&=+" that would end or
    /// change the value).
    public static func queryValue(_ text: String, alsoEscaping alsoEscaped: String) -> String {
        let escaped = Set(alsoEscaped.utf8)
        var result = ""
        for byte in text.utf8 {
            if isQueryAllowed(byte), !escaped.contains(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                result += "%" + hexDigit(byte >> 4) + hexDigit(byte & 0x0F)
            }
        }
        return result
    }

    /// `%XX` sequences decoded; nil when one is malformed or the bytes are not UTF-8 (as `removingPercentEncoding`).
    public static func decode(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(validating: result, as: UTF8.self)
    }

    private static func isQueryAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "-._~!$&'()*+,;=:@/?".utf8.contains(byte)
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> String { String(nibble, radix: 16, uppercase: true) }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
