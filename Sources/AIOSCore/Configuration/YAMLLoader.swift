import Yams
// libyaml's event parser (the one Yams composes from): the pre-scan must see the input exactly as Yams will.
internal import CYaml

/// Bounds for one kind of YAML input. Every YAML document aiosd reads goes through `YAMLLoader` with one of these.
public struct YAMLLimits: Sendable, Equatable {
    /// The document's size in UTF-8 bytes.
    public var maximumBytes: Int
    /// Nested collections (mappings and lists) at most this deep.
    public var maximumDepth: Int
    /// Nodes (scalars, mappings, lists) the document has once every alias is expanded: what a reader walks.
    public var maximumNodes: Int
    /// Whether anchors (`&a`) and aliases (`*a`) are accepted at all.
    public var allowsAliases: Bool

    public init(maximumBytes: Int, maximumDepth: Int, maximumNodes: Int, allowsAliases: Bool) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
        self.maximumNodes = maximumNodes
        self.allowsAliases = allowsAliases
    }

    /// aiosd.yaml and secrets.d: root's own files. Anchors are YAML, so accepted, but bounded.
    public static let configuration = YAMLLimits(maximumBytes: 1 << 20, maximumDepth: 32, maximumNodes: 100_000, allowsAliases: true)
    /// K3s' config.yaml and its drop-ins: K3s itself accepts anchors there (it parses with a full YAML library).
    public static let k3sConfiguration = YAMLLimits(maximumBytes: 1 << 20, maximumDepth: 32, maximumNodes: 100_000, allowsAliases: true)
    /// k3s.yaml: written by K3s, certificates inline.
    public static let kubeconfig = YAMLLimits(maximumBytes: 1 << 20, maximumDepth: 32, maximumNodes: 10_000, allowsAliases: true)
    /// A SecretProviderClass' `parameters.objects`: written by any namespace user, so no aliases at all.
    public static let providerClassObjects = YAMLLimits(maximumBytes: 256 << 10, maximumDepth: 8, maximumNodes: 10_000, allowsAliases: false)
}

/// The one way aiosd turns YAML text into a node tree. Before Yams composes anything, a pass over libyaml's events
/// checks the size, the depth and the number of nodes the document expands to (so an alias "bomb" of a few hundred
/// bytes is refused after reading it once, in linear time and memory). Errors carry file, line, column and a
/// description of the problem, never the document's text: a root-only file or a credential file must not leak
/// into an error, a job record or an API response.
public struct YAMLLoader: Sendable {
    public let file: String
    public let limits: YAMLLimits

    public init(file: String, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    /// The document's root node; nil for an empty document (or only comments).
    public func compose(_ text: String) throws(ConfigurationError) -> Node? {
        try check(text)
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, text: text)
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML")
        }
    }

    /// Size, depth and expansion, from libyaml's events. Throws on the first limit crossed.
    func check(_ text: String) throws(ConfigurationError) {
        let size = text.utf8.count
        guard size <= limits.maximumBytes else {
            throw ConfigurationError(file: file, message: "is \(size) bytes; at most \(limits.maximumBytes) are accepted")
        }
        var bytes = Array(text.utf8)
        let result: Result<Void, ConfigurationError> = bytes.withUnsafeMutableBufferPointer { buffer in
            var scan = EventScan(loader: self)
            return scan.run(buffer)
        }
        try result.get()
    }

    fileprivate func error(_ line: Int?, _ column: Int?, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, column: column, message: message)
    }

    private func syntaxError(_ error: YamlError, text: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigurationError(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams marks the mapping; point at the repeated key instead, which is what the operator must fix.
            let key = duplicates.first ?? ""
            let line = Self.lineOfSecondOccurrence(of: key, in: text, after: context.mark.line) ?? context.mark.line
            return ConfigurationError(file: file, line: line, key: key, message: "duplicate key")
        case .reader(let problem, _, _, _):
            return ConfigurationError(file: file, message: "not readable as YAML: \(problem)")
        default:
            // Other cases describe themselves with the offending text: say only where it is.
            return ConfigurationError(file: file, message: "not valid YAML")
        }
    }

    static func lineOfSecondOccurrence(of key: String, in text: String, after firstLine: Int) -> Int? {
        var seen = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where index + 1 >= firstLine {
            let trimmed = line.drop(while: { $0 == " " })
            if trimmed.hasPrefix(key) && trimmed.dropFirst(key.count).drop(while: { $0 == " " }).hasPrefix(":") {
                seen += 1
                if seen == 2 { return index + 1 }
            }
        }
        return nil
    }
}

/// One pass over libyaml's events: the expanded size of every open collection and every anchor.
private struct EventScan {
    let loader: YAMLLoader
    /// Expanded node count of each collection still open, innermost last, with its anchor.
    var open: [(nodes: Int, anchor: String?)] = []
    /// Expanded node count of each anchored node seen so far in this document.
    var anchors: [String: Int] = [:]
    var total = 0

    init(loader: YAMLLoader) { self.loader = loader }

    mutating func run(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> Result<Void, ConfigurationError> {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return .failure(loader.error(nil, nil, "YAML parser unavailable")) }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
                let mark = parser.problem_mark
                return .failure(loader.error(mark.line + 1, mark.column + 1, "not valid YAML: \(problem)"))
            }
            defer { yaml_event_delete(&event) }
            let line = event.start_mark.line + 1, column = event.start_mark.column + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return .success(())
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
            case YAML_SCALAR_EVENT:
                if let failure = add(1, anchor: Self.name(event.data.scalar.anchor), line, column) { return .failure(failure) }
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor = Self.name(event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor)
                if anchor != nil, !loader.limits.allowsAliases {
                    return .failure(loader.error(line, column, "anchors and aliases are not accepted here"))
                }
                guard open.count < loader.limits.maximumDepth else {
                    return .failure(loader.error(line, column, "nested deeper than \(loader.limits.maximumDepth) levels"))
                }
                open.append((0, anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { break }
                if let failure = add(closed.nodes + 1, anchor: closed.anchor, line, column, countedAlready: closed.nodes) {
                    return .failure(failure)
                }
            case YAML_ALIAS_EVENT:
                guard loader.limits.allowsAliases else {
                    return .failure(loader.error(line, column, "anchors and aliases are not accepted here"))
                }
                // An undefined alias counts as one node; Yams reports it when composing.
                let nodes = Self.name(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1
                if let failure = add(nodes, anchor: nil, line, column) { return .failure(failure) }
            default:
                break
            }
        }
    }

    /// Counts a finished node of `nodes` expanded nodes (of which `countedAlready` were added to the total as its
    /// children arrived) into its parent and the total.
    private mutating func add(_ nodes: Int, anchor: String?, _ line: Int, _ column: Int, countedAlready: Int = 0) -> ConfigurationError? {
        if let anchor {
            guard loader.limits.allowsAliases else { return loader.error(line, column, "anchors and aliases are not accepted here") }
            anchors[anchor] = nodes
        }
        total += nodes - countedAlready
        if !open.isEmpty { open[open.count - 1].nodes += nodes }
        guard total <= loader.limits.maximumNodes else {
            return loader.error(line, column, "expands to more than \(loader.limits.maximumNodes) nodes (aliases included)")
        }
        return nil
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
