import FoundationEssentials

/// A JSON document of unknown shape (a Kubernetes object, an Entra error body), read and written with
/// JSONDecoder/JSONEncoder: what JSONSerialization gave, without linking Foundation (and ICU) into aiosd.
/// Integers stay integers (`observedGeneration: 3`, never `3.0`: the API server refuses a float there).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The document in `bytes`, or nil when it is not JSON (any value at the top, as `.fragmentsAllowed`).
    public init?<Bytes: Sequence<UInt8>>(parsing bytes: Bytes) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else { return nil }
        self = value
    }

    /// The object in `bytes`, or nil when they are not a JSON object.
    public static func object<Bytes: Sequence<UInt8>>(parsing bytes: Bytes) -> [String: JSONValue]? {
        JSONValue(parsing: bytes)?.object
    }

    /// Compact JSON; `sortedKeys` for a stable text. Fails only for a non-finite number.
    public func encoded(sortedKeys: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        if sortedKeys { encoder.outputFormatting = [.sortedKeys] }
        return try encoder.encode(self)
    }

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    public var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    public var isNull: Bool { self == .null }

    /// A number that is a whole Int (`3` or `3.0`), as `as? Int` read JSONSerialization's NSNumber.
    public var int: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .double(let value): Int(exactly: value)
        default: nil
        }
    }

    /// Any number, the fraction dropped (as NSNumber's `intValue`); nil for a non-number or one out of range.
    public var truncatedInt: Int? {
        switch self {
        case .integer(let value): Int(exactly: value)
        case .double(let value): value.isFinite && abs(value) < 9.2e18 ? Int(value) : nil
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// An object whose values are all strings (labels, annotations); nil when one is not, as `as? [String: String]`.
    public var stringObject: [String: String]? {
        guard let object else { return nil }
        var result: [String: String] = [:]
        for (key, value) in object {
            guard let text = value.string else { return nil }
            result[key] = text
        }
        return result
    }

    /// An array whose elements are all objects; nil when one is not, as `as? [[String: Any]]`.
    public var objectArray: [[String: JSONValue]]? {
        guard let array else { return nil }
        var result: [[String: JSONValue]] = []
        for element in array {
            guard let object = element.object else { return nil }
            result.append(object)
        }
        return result
    }

    public subscript(key: String) -> JSONValue? { object?[key] }

    /// Equal as JSON: numbers by value (`3` and `3.0` are one), objects whatever their key order.
    public func sameValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.integer, .double), (.double, .integer): double == other.double
        case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in b[key].map { value.sameValue(as: $0) } ?? false }
        default: self == other
        }
    }
}

extension JSONValue: Codable {
    private struct CodingName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: CodingName.self) {
            var result: [String: JSONValue] = [:]
            for key in object.allKeys { result[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(result)
        } else if var array = try? decoder.unkeyedContainer() {
            var result: [JSONValue] = []
            while !array.isAtEnd { result.append(try array.decode(JSONValue.self)) }
            self = .array(result)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let text = try? value.decode(String.self) {
                self = .string(text)
            } else if let flag = try? value.decode(Bool.self) {
                self = .bool(flag)
            } else if let integer = try? value.decode(Int64.self) {
                self = .integer(integer)
            } else {
                self = .double(try value.decode(Double.self))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let object):
            var container = encoder.container(keyedBy: CodingName.self)
            for (key, value) in object { try container.encode(value, forKey: CodingName(stringValue: key)) }
        case .array(let array):
            var container = encoder.unkeyedContainer()
            for element in array { try container.encode(element) }
        case .null, .bool, .integer, .double, .string:
            var container = encoder.singleValueContainer()
            switch self {
            case .bool(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            default: try container.encodeNil()
            }
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    public init(_ text: String) { self = .string(text) }
    public init(_ number: Int) { self = .integer(Int64(number)) }
    public init(_ object: [String: String]) { self = .object(object.mapValues { .string($0) }) }
}
