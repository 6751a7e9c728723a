import AIOSAPI
import FoundationEssentials

/// `-o json` and `-o yaml`: the API's document as JSON (sorted keys, one line, as aiosd sends it) or YAML.
enum StructuredOutput {
    static func document(_ value: some Encodable, format: OutputFormat) -> String? {
        guard let json = try? APICoding.encoder().encode(value) else { return nil }
        return document(json: Array(json), format: format)
    }

    static func document(json: [UInt8], format: OutputFormat) -> String? {
        guard format == .yaml else { return String(decoding: json, as: UTF8.self) }
        guard let tree = try? APICoding.decoder().decode(JSONValue.self, from: Data(json)) else { return nil }
        return YAMLText.render(tree)
    }
}

/// A parsed JSON document, to re-emit it in another syntax.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// Block-style YAML 1.2 for a JSON document: keys sorted, a string quoted (JSON style, which YAML reads) unless
/// it reads back as the same plain string.
enum YAMLText {
    static func render(_ value: JSONValue) -> String {
        var lines: [String] = []
        emit(value, indent: "", into: &lines)
        return lines.joined(separator: "\n")
    }

    private static func emit(_ value: JSONValue, indent: String, into lines: inout [String]) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for key in members.keys.sorted() {
                let member = members[key]!
                let head = indent + scalar(.string(key)) + ":"
                if let inline = inline(member) {
                    lines.append(head + " " + inline)
                } else {
                    lines.append(head)
                    emit(member, indent: isArray(member) ? indent : indent + "  ", into: &lines)
                }
            }
        case .array(let items) where !items.isEmpty:
            for item in items {
                if let inline = inline(item) {
                    lines.append(indent + "- " + inline)
                } else {
                    // The item's first line follows the dash; the rest line up under it.
                    var nested: [String] = []
                    emit(item, indent: indent + "  ", into: &nested)
                    guard let first = nested.first else { continue }
                    lines.append(indent + "- " + first.dropFirst(indent.count + 2))
                    lines += nested.dropFirst()
                }
            }
        default:
            lines.append(indent + (inline(value) ?? ""))
        }
    }

    private static func isArray(_ value: JSONValue) -> Bool {
        if case .array = value { return true }
        return false
    }

    /// The value on one line, or nil for a non-empty object or array.
    private static func inline(_ value: JSONValue) -> String? {
        switch value {
        case .object(let members): members.isEmpty ? "{}" : nil
        case .array(let items): items.isEmpty ? "[]" : nil
        default: scalar(value)
        }
    }

    static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let text): return isPlain(text) ? text : quoted(text)
        case .array, .object: return ""
        }
    }

    /// Plain only when every YAML reader (1.1 too) reads it back as this string: it starts with a letter or `/`
    /// (so no indicator, number, date or time), holds no `: ` or ` #`, does not end in a space or `:`, and is not
    /// a keyword (true, no, null, ...). Anything else is quoted.
    private static func isPlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        let safe = text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", " ", "_", ".", "/", "-", "+", "(", ")", ",", ":", "=", "@", "~", ";": true
            default: false
            }
        }
        let startsWell = ("a"..."z").contains(first) || ("A"..."Z").contains(first) || first == "/"
        guard safe, startsWell, last != " ", last != ":", !text.contains(": "), !text.contains(" #") else { return false }
        return !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(text.lowercased())
    }

    private static func quoted(_ text: String) -> String {
        let json = (try? APICoding.encoder().encode(text)).map { String(decoding: $0, as: UTF8.self) }
        return json ?? "\"\""
    }
}
