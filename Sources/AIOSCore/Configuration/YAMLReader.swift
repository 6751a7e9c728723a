/// Reads a YAML document strictly, turning every problem into a `ConfigurationError` with file, line and key:
/// unknown keys, wrong types and duplicate keys are errors, not silently ignored.
public struct YAMLReader {
    public let file: String
    public let limits: YAMLLimits

    public init(file: String, limits: YAMLLimits = .configuration) {
        self.file = file
        self.limits = limits
    }

    /// The root mapping of `text`; an empty document (or only comments) is an empty mapping.
    public func rootMapping(of text: String) throws(ConfigurationError) -> YAMLMapping {
        guard let node = try YAMLLoader(file: file, limits: limits).compose(text) else {
            return YAMLMapping(file: file, path: "", node: nil, pairs: [])
        }
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column,
                                     message: "expected a mapping of settings at the top level")
        }
        return try YAMLMapping(file: file, path: "", node: node, mapping: mapping)
    }
}

/// A mapping whose keys are consumed one by one; `finish()` rejects whatever is left as unknown.
public struct YAMLMapping {
    let file: String
    let path: String
    let node: YAMLNode?
    private var pairs: [(key: String, keyNode: YAMLNode, value: YAMLNode)]

    init(file: String, path: String, node: YAMLNode?, pairs: [(key: String, keyNode: YAMLNode, value: YAMLNode)]) {
        self.file = file
        self.path = path
        self.node = node
        self.pairs = pairs
    }

    init(file: String, path: String, node: YAMLNode, mapping: YAMLNode.Mapping) throws(ConfigurationError) {
        var pairs: [(key: String, keyNode: YAMLNode, value: YAMLNode)] = []
        var seen: Set<String> = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw ConfigurationError(file: file, line: keyNode.mark?.line, column: keyNode.mark?.column,
                                         key: path.isEmpty ? nil : path, message: "keys must be plain strings")
            }
            let dotted = path.isEmpty ? key : "\(path).\(key)"
            guard seen.insert(key).inserted else {
                throw ConfigurationError(file: file, line: keyNode.mark?.line, column: keyNode.mark?.column,
                                         key: dotted, message: "duplicate key")
            }
            pairs.append((key, keyNode, value))
        }
        self.init(file: file, path: path, node: node, pairs: pairs)
    }

    public func dotted(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Removes and returns the value node of `key`, if present. A YAML `null` counts as absent.
    mutating func take(_ key: String) -> YAMLNode? {
        guard let index = pairs.firstIndex(where: { $0.key == key }) else { return nil }
        let value = pairs.remove(at: index).value
        if value.isNull { return nil }
        return value
    }

    func error(_ key: String, _ node: YAMLNode, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, key: dotted(key), message: message)
    }

    public mutating func mapping(_ key: String) throws(ConfigurationError) -> YAMLMapping? {
        guard let node = take(key) else { return nil }
        guard let mapping = node.mapping else { throw error(key, node, "expected a mapping") }
        return try YAMLMapping(file: file, path: dotted(key), node: node, mapping: mapping)
    }

    public mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let node = take(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, node, "expected a string") }
        return scalar.string
    }

    public mutating func nonEmptyString(_ key: String) throws(ConfigurationError) -> String? {
        guard let node = take(key) else { return nil }
        guard let value = node.scalar?.string, !value.isEmpty, !value.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw error(key, node, "expected a non-empty single-line string")
        }
        return value
    }

    public mutating func positiveInt(_ key: String, max: Int = Int(Int32.max)) throws(ConfigurationError) -> Int? {
        guard let node = take(key) else { return nil }
        guard let text = node.scalar?.string, let value = Int(text), value > 0, value <= max else {
            throw error(key, node, "expected a positive integer up to \(max), got \(Self.quoted(node))")
        }
        return value
    }

    public mutating func duration(_ key: String, minimum: Duration = .milliseconds(1)) throws(ConfigurationError) -> Duration? {
        guard let node = take(key) else { return nil }
        guard let text = node.scalar?.string, let value = DurationParser.parse(text) else {
            throw error(key, node, "expected a duration such as 500ms, 5s, 2m or 1h, got \(Self.quoted(node))")
        }
        guard value >= minimum else {
            throw error(key, node, "must be at least \(DurationParser.format(minimum))")
        }
        return value
    }

    public mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let node = take(key) else { return nil }
        guard let text = node.scalar?.string, let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(key, node, "expected one of \(allowed), got \(Self.quoted(node))")
        }
        return value
    }

    /// Rejects keys nobody asked for: a typo must not silently fall back to a default.
    public func finish(known: [String]) throws(ConfigurationError) {
        guard let unknown = pairs.first else { return }
        throw ConfigurationError(file: file, line: unknown.keyNode.mark?.line, column: unknown.keyNode.mark?.column,
                                 key: dotted(unknown.key),
                                 message: "unknown setting (known here: \(known.joined(separator: ", ")))")
    }

    static func quoted(_ node: YAMLNode) -> String {
        if let scalar = node.scalar { return "\"\(scalar.string)\"" }
        if node.mapping != nil { return "a mapping" }
        return "a list"
    }
}

extension YAMLMapping {
    /// The mappings of a list under `key` (e.g. `objects:`), each with its index in the dotted path.
    public mutating func mappings(_ key: String) throws(ConfigurationError) -> [YAMLMapping]? {
        guard let node = take(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, node, "expected a list") }
        var result: [YAMLMapping] = []
        for (index, element) in sequence.enumerated() {
            guard let mapping = element.mapping else {
                throw ConfigurationError(file: file, line: element.mark?.line, column: element.mark?.column,
                                         key: "\(dotted(key))[\(index)]", message: "expected a mapping")
            }
            result.append(try YAMLMapping(file: file, path: "\(dotted(key))[\(index)]", node: element, mapping: mapping))
        }
        return result
    }

    /// A mapping of strings to strings (labels, annotations).
    public mutating func stringMap(_ key: String) throws(ConfigurationError) -> [String: String]? {
        guard let node = take(key) else { return nil }
        guard let mapping = node.mapping else { throw error(key, node, "expected a mapping of strings") }
        var result: [String: String] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string, let text = value.scalar?.string else {
                throw error(key, value, "expected a mapping of strings")
            }
            guard result.updateValue(text, forKey: name) == nil else { throw error(key, keyNode, "duplicate key \(name)") }
        }
        return result
    }

    /// A list of single-line strings (e.g. namespace names).
    public mutating func stringList(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let node = take(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, node, "expected a list of strings") }
        var result: [String] = []
        for element in sequence {
            guard let text = element.scalar?.string, !text.isEmpty, !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw error(key, element, "expected a list of non-empty single-line strings")
            }
            result.append(text)
        }
        return result
    }

    /// An integer in `range`.
    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let node = take(key) else { return nil }
        guard let text = node.scalar?.string, let value = Int(text), range.contains(value) else {
            throw error(key, node, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(Self.quoted(node))")
        }
        return value
    }

    /// The error for a value that parsed but is not acceptable, located at the value.
    public func invalid(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node?.mark?.line, column: node?.mark?.column, key: dotted(key), message: message)
    }
}

extension YAMLMapping {
    /// A list of single-line strings under `key`, each checked by `problem` (nil if acceptable); an error
    /// points at the offending element (`key[index]`). Duplicates are refused.
    public mutating func stringList(_ key: String, problem: (String) -> String?) throws(ConfigurationError) -> [String]? {
        guard let node = take(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, node, "expected a list of strings") }
        var result: [String] = []
        for (index, element) in sequence.enumerated() {
            func invalid(_ message: String) -> ConfigurationError {
                ConfigurationError(file: file, line: element.mark?.line, column: element.mark?.column,
                                   key: "\(dotted(key))[\(index)]", message: message)
            }
            guard let text = element.scalar?.string, !text.isEmpty, !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw invalid("expected a non-empty single-line string")
            }
            if let message = problem(text) { throw invalid(message) }
            guard !result.contains(text) else { throw invalid("\"\(text)\" is listed twice") }
            result.append(text)
        }
        return result
    }
}
