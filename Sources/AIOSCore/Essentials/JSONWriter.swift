/// Writes JSON text straight into bytes, member by member. For the bodies written once per Secret in a sync, where
/// JSONEncoder's generic Encodable path cost a tenth of a first sync's CPU (perf); elsewhere JSONEncoder is fine.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// For each open object or array: true until its first member is written (no comma before it).
    private var openContainers: [Bool] = []
    /// A key was just written: the next value follows its colon, without a comma.
    private var afterKey = false

    /// `/` written as `\/`, as JSONEncoder writes it without `.withoutEscapingSlashes`.
    private let escapesSlashes: Bool

    public init(capacity: Int = 512, escapingSlashes: Bool = false) {
        escapesSlashes = escapingSlashes
        bytes.reserveCapacity(capacity)
    }

    /// The text written since the last call, taken out of the writer, which goes on where it was: a long document
    /// is written out in parts instead of held whole.
    public mutating func drain() -> [UInt8] {
        var part: [UInt8] = []
        part.reserveCapacity(bytes.capacity)
        swap(&part, &bytes)
        return part
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// `"name": "value"`.
    public mutating func member(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// `"name": {"key": "value", ...}`.
    public mutating func member(_ name: String, _ object: [String: String]) {
        key(name)
        beginObject()
        for (key, value) in object { member(key, value) }
        endObject()
    }

    /// `"name": 12`.
    public mutating func member(_ name: String, _ value: Int) {
        key(name)
        separate()
        bytes += String(value).utf8
    }

    /// `"name": true`.
    public mutating func member(_ name: String, _ value: Bool) {
        key(name)
        separate()
        bytes += (value ? "true" : "false").utf8
    }

    /// `"name": 0.029`: the shortest text that reads back as the same Double (Swift's own), without a trailing
    /// `.0`, as JSONEncoder writes it. Only finite values: JSON has no text for infinity or NaN.
    public mutating func member(_ name: String, _ value: Double) {
        precondition(value.isFinite, "JSON has no text for \(value)")
        key(name)
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes += text.utf8
    }

    /// A value already written as JSON text (by JSONEncoder), as it is.
    public mutating func json<Bytes: Sequence<UInt8>>(_ text: Bytes) {
        separate()
        bytes += text
    }

    /// Ends the text with a newline (one line of NDJSON).
    public mutating func newline() { bytes.append(0x0A) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        openContainers.append(true)
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        openContainers.removeLast()
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let isFirst = openContainers.last else { return }
        if isFirst { openContainers[openContainers.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
    }

    /// A JSON string (RFC 8259 section 7): quote, backslash and control characters escaped, the rest as UTF-8.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case UInt8(ascii: "/") where escapesSlashes: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
