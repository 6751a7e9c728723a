/// A small JSON document read strictly (RFC 8259) straight from its bytes, for an answer read once per Secret: a
/// Key Vault secret bundle through JSONDecoder's generic Decodable path was 4% of a first sync's CPU at 10,000
/// Secrets (perf). Numbers keep their text, so the reader decides how to take them. Whatever JSONDecoder refuses
/// as JSON this refuses too (malformed syntax, a bad escape or lone surrogate, invalid UTF-8, nesting past 512),
/// and it allows what JSONDecoder allows (a trailing comma); unlike JSONDecoder it checks every string, also those
/// no field reads.
public enum JSONTree: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number as written (already checked against JSON's number grammar).
    case number(String)
    case string(String)
    case array([JSONTree])
    /// A repeated key keeps its first value, as JSONDecoder does.
    case object([String: JSONTree])

    /// The document in `bytes` (one value, whitespace around it), or nil when it is not JSON.
    public init?(parsing bytes: [UInt8]) {
        self.init(parsing: bytes, keeping: nil)
    }

    /// The document with only the members `keep` wants: it is asked with each member's path of keys (array
    /// elements add none, so `["items", "metadata"]` is every item's metadata). The others are stepped over
    /// without being built, their syntax and escapes checked but their text not decoded (as JSONDecoder treats
    /// what no field reads): a list of 500 Kubernetes objects whose managedFields no one reads.
    public init?(parsing bytes: [UInt8], keeping keep: ((_ path: [String]) -> Bool)?) {
        guard let tree = bytes.withUnsafeBufferPointer({ buffer -> JSONTree? in
            var parser = Parser(bytes: buffer, keep: keep)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipWhitespace()
            return parser.atEnd ? value : nil
        }) else { return nil }
        self = tree
    }

    public var object: [String: JSONTree]? { if case .object(let members) = self { members } else { nil } }

    /// The Int JSONDecoder decodes from the number `text` (JSON number grammar), or nil where it throws. As
    /// swift-foundation's `_slowpath_unwrapFixedWidthInteger` does: a plain integer exactly; any other number
    /// through a Double (strtod) that must be a whole number an Int holds, which below 2^53 is the value (`3.0`,
    /// `1e3`, `1e-400` as 0; `0.5` throws); from 2^53 up the number read as a Decimal, without its fraction.
    public static func integer(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        guard let double = Double(text), let whole = Int(exactly: double) else { return nil }
        if abs(double) < 9_007_199_254_740_992 { return whole }
        return decimalWithoutFraction(text).flatMap { $0 == Int.min ? nil : $0 }
    }

    /// The number as Foundation's Decimal takes it to an Int: its significant digits (trailing zeros moved into
    /// the exponent) must fit a UInt64, then the fraction is dropped; nil where that or the Int overflows.
    private static func decimalWithoutFraction(_ text: String) -> Int? {
        var utf8 = Substring(text).utf8[...]
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        var digits: [UInt64] = []
        var exponent = 0
        var inFraction = false
        while let byte = utf8.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else {
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(UInt64(byte) - 0x30) }
                if inFraction { exponent -= 1 }
            }
        }
        if !utf8.isEmpty {
            guard let written = Int(Substring(utf8.dropFirst())), abs(written) < 1_000 else { return nil }
            exponent += written
        }
        while digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        var significand: UInt64 = 0
        for digit in digits {
            let (times, overflowTimes) = significand.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(digit)
            guard !overflowTimes, !overflowSum else { return nil }
            significand = sum
        }
        var magnitude = significand
        if exponent < 0 {
            for _ in 0..<min(-exponent, 20) { magnitude /= 10 }
        } else {
            for _ in 0..<exponent {
                let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                magnitude = times
            }
        }
        if negative { return magnitude <= UInt64(Int.max) + 1 ? Int(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int.max) ? Int(magnitude) : nil
    }

    /// The deepest nesting JSONDecoder accepts.
    static let maximumDepth = 512

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        let keep: ((_ path: [String]) -> Bool)?
        /// The keys from the top to the member being read (only while `keep` is set).
        var path: [String] = []

        init(bytes: UnsafeBufferPointer<UInt8>, keep: ((_ path: [String]) -> Bool)?) {
            self.bytes = bytes
            self.keep = keep
        }

        var atEnd: Bool { index == bytes.count }
        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> JSONTree? {
            guard depth < JSONTree.maximumDepth else { return nil }
            skipWhitespace()
            guard let byte = peek else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map(JSONTree.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        private mutating func object(depth: Int) -> JSONTree? {
            index += 1  // {
            var members: [String: JSONTree] = [:]
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return .object(members) }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                if let keep {
                    path.append(key)
                    let wanted = keep(path)
                    let value = wanted ? value(depth: depth + 1) : nil
                    let skipped = wanted ? false : skipValue(depth: depth + 1)
                    path.removeLast()
                    if wanted {
                        guard let value else { return nil }
                        if members[key] == nil { members[key] = value }
                    } else {
                        guard skipped else { return nil }
                    }
                } else {
                    guard let value = value(depth: depth + 1) else { return nil }
                    if members[key] == nil { members[key] = value }
                }
                skipWhitespace()
                if take(UInt8(ascii: ",")) {
                    skipWhitespace()
                    if take(UInt8(ascii: "}")) { return .object(members) }  // a trailing comma, as JSONDecoder allows
                    continue
                }
                return take(UInt8(ascii: "}")) ? .object(members) : nil
            }
        }

        private mutating func array(depth: Int) -> JSONTree? {
            index += 1  // [
            var elements: [JSONTree] = []
            skipWhitespace()
            if take(UInt8(ascii: "]")) { return .array(elements) }
            while true {
                guard let element = value(depth: depth + 1) else { return nil }
                elements.append(element)
                skipWhitespace()
                if take(UInt8(ascii: ",")) {
                    skipWhitespace()
                    if take(UInt8(ascii: "]")) { return .array(elements) }  // a trailing comma, as JSONDecoder allows
                    continue
                }
                return take(UInt8(ascii: "]")) ? .array(elements) : nil
            }
        }

        /// Steps over one value: the same grammar as `value`, nothing built, strings only delimited.
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < JSONTree.maximumDepth else { return false }
            skipWhitespace()
            guard let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                skipWhitespace()
                if take(close) { return true }
                while true {
                    if close == UInt8(ascii: "}") {
                        skipWhitespace()
                        guard peek == UInt8(ascii: "\""), skipString() else { return false }
                        skipWhitespace()
                        guard take(UInt8(ascii: ":")) else { return false }
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if take(UInt8(ascii: ",")) {
                        skipWhitespace()
                        if take(close) { return true }  // a trailing comma
                        continue
                    }
                    return take(close)
                }
            case UInt8(ascii: "\""): return skipString()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return numberEnd()
            default: return false
            }
        }

        /// To after the closing quote. Escapes are checked as `string` checks them (JSONDecoder refuses some bad
        /// ones even in strings it never reads); the rest is not decoded.
        private mutating func skipString() -> Bool {
            index += 1  // "
            var scratch: [UInt8] = []
            while let byte = peek {
                index += 1
                if byte == UInt8(ascii: "\"") { return true }
                if byte == UInt8(ascii: "\\") {
                    guard escape(into: &scratch) else { return false }
                    scratch.removeAll(keepingCapacity: true)
                }
            }
            return false
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
        private mutating func number() -> JSONTree? {
            let start = index
            guard numberEnd() else { return nil }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
        }

        /// To the end of the number at the cursor; false if it breaks the grammar.
        private mutating func numberEnd() -> Bool {
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                // no leading zeros
            } else {
                guard digits() else { return false }
            }
            if take(UInt8(ascii: ".")) { guard digits() else { return false } }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard digits() else { return false }
            }
            return true
        }

        /// One digit or more.
        private mutating func digits() -> Bool {
            let start = index
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index > start
        }

        /// A string at the cursor, its escapes decoded; nil for a control character, a bad escape, a lone
        /// surrogate or invalid UTF-8.
        private mutating func string() -> String? {
            index += 1  // "
            var start = index
            var decoded: [UInt8]?  // only once an escape is met
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    let tail = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    guard var text = decoded else { return String(validating: tail, as: UTF8.self) }
                    text.append(contentsOf: tail)
                    return String(validating: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    var text = decoded ?? []
                    text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    index += 1
                    guard escape(into: &text) else { return nil }
                    decoded = text
                    start = index
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        /// After a backslash: the escaped character, as UTF-8.
        private mutating func escape(into text: inout [UInt8]) -> Bool {
            guard let byte = peek else { return false }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return false }
                var scalar: Unicode.Scalar?
                switch unit {
                case 0xD800...0xDBFF:
                    guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return false }
                    scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                case 0xDC00...0xDFFF:
                    return false
                default:
                    scalar = Unicode.Scalar(UInt32(unit))
                }
                guard let scalar else { return false }
                text.append(contentsOf: String(Character(scalar)).utf8)
            default:
                return false
            }
            return true
        }

        private mutating func hex4() -> UInt16? {
            guard bytes.count - index >= 4 else { return nil }
            var unit: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                unit = unit << 4 | UInt16(digit)
                index += 1
            }
            return unit
        }
    }
}
