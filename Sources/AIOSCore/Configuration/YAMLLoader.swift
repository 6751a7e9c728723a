// Debian's libyaml: its event parser, composed into `YAMLNode`s here.
internal import CYAML

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

/// The one way aiosd turns YAML text into a node tree: one pass over libyaml's events that composes the nodes and
/// checks the size, the depth and the number of nodes the document expands to as it goes (so an alias "bomb" of a
/// few hundred bytes is refused after reading it once, in linear time and memory; an alias shares its anchor's
/// node, it is never copied). Errors carry file, line, column and a description of the problem, never the
/// document's text: a root-only file or a credential file must not leak into an error, a job record or an API
/// response.
public struct YAMLLoader: Sendable {
    public let file: String
    public let limits: YAMLLimits

    public init(file: String, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    /// The document's root node; nil for an empty document (or only comments). A second document is an error.
    public func compose(_ text: String) throws(ConfigurationError) -> YAMLNode? {
        let size = text.utf8.count
        guard size <= limits.maximumBytes else {
            throw ConfigurationError(file: file, message: "is \(size) bytes; at most \(limits.maximumBytes) are accepted")
        }
        var bytes = Array(text.utf8)
        let result: Result<YAMLNode?, ConfigurationError> = bytes.withUnsafeMutableBufferPointer { buffer in
            var composer = Composer(loader: self)
            return composer.run(buffer)
        }
        return try result.get()
    }

    fileprivate func error(_ line: Int?, _ column: Int?, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, column: column, message: message)
    }
}

/// One pass over libyaml's events: the open collections, the anchors, and the expanded size of each.
private struct Composer {
    let loader: YAMLLoader

    /// A collection still open, innermost last: its children so far, its expanded node count, its anchor.
    struct Open {
        let mark: YAMLNode.Mark
        let isMapping: Bool
        let anchor: String?
        var children: [YAMLNode] = []
        var nodes = 0
    }
    var open: [Open] = []
    /// Each anchored node seen so far in the document with its expanded node count.
    var anchors: [String: (node: YAMLNode, nodes: Int)] = [:]
    var total = 0
    var root: YAMLNode?
    var documents = 0

    init(loader: YAMLLoader) { self.loader = loader }

    mutating func run(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> Result<YAMLNode?, ConfigurationError> {
        guard let base = buffer.baseAddress, let parser = aios_yaml_parser_new(base, buffer.count) else {
            return .failure(loader.error(nil, nil, "YAML parser unavailable"))
        }
        defer { aios_yaml_parser_free(parser) }
        while true {
            var event = yaml_event_t()
            guard aios_yaml_parser_next(parser, &event) == 1 else {
                let problem = aios_yaml_parser_problem(parser).map { String(cString: $0) } ?? "syntax error"
                return .failure(loader.error(aios_yaml_parser_problem_line(parser) + 1, aios_yaml_parser_problem_column(parser) + 1,
                                             "not valid YAML: \(problem)"))
            }
            defer { aios_yaml_event_delete(&event) }
            let mark = YAMLNode.Mark(line: aios_yaml_event_line(&event) + 1, column: aios_yaml_event_column(&event) + 1)
            if let failure = handle(&event, at: mark) { return .failure(failure) }
            if event.type == YAML_STREAM_END_EVENT { return .success(root) }
        }
    }

    private mutating func handle(_ event: inout yaml_event_t, at mark: YAMLNode.Mark) -> ConfigurationError? {
        let limits = loader.limits
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            guard documents == 1 else {
                return loader.error(mark.line, mark.column, "not valid YAML: expected a single document in the stream, but found another document")
            }
        case YAML_SCALAR_EVENT:
            let length = aios_yaml_event_scalar_length(&event)
            let text = aios_yaml_event_scalar_value(&event).map {
                String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
            } ?? ""
            let scalar = YAMLNode.Scalar(string: text, isPlain: aios_yaml_event_scalar_is_plain(&event) == 1,
                                         tag: Self.string(aios_yaml_event_tag(&event)))
            return add(YAMLNode(content: .scalar(scalar), mark: mark), nodes: 1, anchor: Self.string(aios_yaml_event_anchor(&event)), mark)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let anchor = Self.string(aios_yaml_event_anchor(&event))
            if anchor != nil, !limits.allowsAliases {
                return loader.error(mark.line, mark.column, "anchors and aliases are not accepted here")
            }
            guard open.count < limits.maximumDepth else {
                return loader.error(mark.line, mark.column, "nested deeper than \(limits.maximumDepth) levels")
            }
            open.append(Open(mark: mark, isMapping: event.type == YAML_MAPPING_START_EVENT, anchor: anchor))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let closed = open.popLast() else { break }
            let node: YAMLNode
            if closed.isMapping {
                var pairs: [(key: YAMLNode, value: YAMLNode)] = []
                pairs.reserveCapacity(closed.children.count / 2)
                var keys: Set<String> = []
                for index in stride(from: 0, to: closed.children.count - 1, by: 2) {
                    let key = closed.children[index]
                    if let name = key.scalar?.string, !keys.insert(name).inserted {
                        // The repeated key is what the operator must fix: point at it, not at the mapping.
                        return ConfigurationError(file: loader.file, line: key.mark?.line, key: name, message: "duplicate key")
                    }
                    pairs.append((key, closed.children[index + 1]))
                }
                node = YAMLNode(content: .mapping(YAMLNode.Mapping(pairs: pairs)), mark: closed.mark)
            } else {
                node = YAMLNode(content: .sequence(closed.children), mark: closed.mark)
            }
            return add(node, nodes: closed.nodes + 1, anchor: closed.anchor, mark, countedAlready: closed.nodes)
        case YAML_ALIAS_EVENT:
            guard limits.allowsAliases else {
                return loader.error(mark.line, mark.column, "anchors and aliases are not accepted here")
            }
            guard let name = Self.string(aios_yaml_event_anchor(&event)), let target = anchors[name] else {
                return loader.error(mark.line, mark.column, "not valid YAML: found undefined alias")
            }
            return add(target.node, nodes: target.nodes, anchor: nil, mark)
        default:
            break
        }
        return nil
    }

    /// Adds a finished node of `nodes` expanded nodes (of which `countedAlready` were added to the total as its
    /// children arrived) to its parent, or makes it the root.
    private mutating func add(_ node: YAMLNode, nodes: Int, anchor: String?, _ mark: YAMLNode.Mark,
                              countedAlready: Int = 0) -> ConfigurationError? {
        if let anchor {
            guard loader.limits.allowsAliases else { return loader.error(mark.line, mark.column, "anchors and aliases are not accepted here") }
            anchors[anchor] = (node, nodes)
        }
        total += nodes - countedAlready
        guard total <= loader.limits.maximumNodes else {
            return loader.error(mark.line, mark.column, "expands to more than \(loader.limits.maximumNodes) nodes (aliases included)")
        }
        if open.isEmpty {
            root = node
        } else {
            open[open.count - 1].nodes += nodes
            open[open.count - 1].children.append(node)
        }
        return nil
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
