import FoundationEssentials

/// Reads one string member out of a JSON document by walking its bytes, without building the document: for the
/// one field aiosd needs from a large answer (a written Secret's resourceVersion, from a response that holds the
/// whole Secret, managedFields included; decoding it was 4% of a first sync's CPU).
public enum JSONScanner {
    /// The string at `path` (object keys from the top level down), or nil when there is none there, the value is
    /// not a string, or the document is malformed before it is reached.
    public static func string(at path: [String], in bytes: [UInt8]) -> String? {
        guard !path.isEmpty else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = Cursor(bytes: buffer)
            return scanner.find(path[...])
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// At a value: the string at `path` inside it.
        mutating func find(_ path: ArraySlice<String>) -> String? {
            skipWhitespace()
            guard take(UInt8(ascii: "{")) else { return nil }
            skipWhitespace()
            if take(UInt8(ascii: "}")) { return nil }
            while true {
                skipWhitespace()
                guard let key = readString() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                if key == path.first {
                    if path.count == 1 { return peek == UInt8(ascii: "\"") ? readString() : nil }
                    return find(path.dropFirst())
                }
                guard skipValue() else { return nil }
                skipWhitespace()
                if take(UInt8(ascii: ",")) { continue }
                return nil  // "}" (not found) or malformed
            }
        }

        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        /// A string at the cursor, decoded; the cursor ends after its closing quote.
        private mutating func readString() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var escaped = false
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\\"):
                    escaped = true
                    guard peek != nil else { return nil }
                    index += 1
                case UInt8(ascii: "\""):
                    let raw = UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])
                    // Escapes are rare (none in the fields this reads): JSONDecoder decodes those few exactly.
                    guard escaped else { return String(decoding: raw, as: UTF8.self) }
                    return try? JSONDecoder().decode(String.self, from: Data(bytes[(start - 1)..<index]))
                case 0..<0x20:
                    return nil  // a control character must be escaped in JSON
                default:
                    break
                }
            }
            return nil
        }

        /// Steps over one value of any kind; false if it is malformed.
        private mutating func skipValue() -> Bool {
            switch peek {
            case UInt8(ascii: "\""):
                return readString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return skipContainer()
            case nil:
                return false
            default:
                // A number, true, false or null: up to the next delimiter.
                let start = index
                while let byte = peek, !Self.delimiters.contains(byte) { index += 1 }
                return index > start
            }
        }

        /// Steps over an object or array, strings inside it included (brackets in strings do not count).
        private mutating func skipContainer() -> Bool {
            var depth = 0
            while let byte = peek {
                switch byte {
                case UInt8(ascii: "\""):
                    guard readString() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default:
                    break
                }
                index += 1
            }
            return false
        }

        private static let delimiters: Set<UInt8> = [
            UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09,
        ]
    }
}
